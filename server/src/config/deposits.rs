//! `DEPOSIT_ADDRESSES`: where users' deposits go, one `SYMBOL:network:address` per entry.

use crate::mesh::Network;

/// One receiving address the app offers for deposits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepositAddress {
    /// The asset, upper case (`USDC`).
    pub symbol: String,
    /// The network it is received on.
    pub network: Network,
    /// The receiving address.
    pub address: String,
}

/// Addresses the emulator offers when none are configured: they look real, belong to nobody,
/// and never leave the emulator.
pub const EMULATED_DEPOSIT_ADDRESSES: &str = "USDC:ethereum:0x5e1ec7ed00c0ffee00000000000000000000dead,\
    ETH:base:0x5e1ec7ed00c0ffee00000000000000000000beef,\
    SOL:solana:DepositEmu1atedSo1anaAddress1111111111111";

/// Reads a comma- or newline-separated list; every bad entry gets its own sentence.
pub fn parse_deposit_addresses(list: &str) -> Result<Vec<DepositAddress>, Vec<String>> {
    let mut addresses = Vec::new();
    let mut problems = Vec::new();
    for entry in list
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match parse_entry(entry) {
            Ok(address)
                if addresses
                    .iter()
                    .any(|a: &DepositAddress| same_asset(a, &address)) =>
            {
                problems.push(format!(
                    "\"{entry}\" repeats {} on {}: give each asset and network one address",
                    address.symbol, address.network.name
                ));
            }
            Ok(address) => addresses.push(address),
            Err(problem) => problems.push(format!("\"{entry}\" {problem}")),
        }
    }
    if problems.is_empty() {
        Ok(addresses)
    } else {
        Err(problems)
    }
}

fn same_asset(a: &DepositAddress, b: &DepositAddress) -> bool {
    a.symbol == b.symbol && a.network == b.network
}

fn parse_entry(entry: &str) -> Result<DepositAddress, String> {
    let mut parts = entry.splitn(3, ':').map(str::trim);
    let (Some(symbol), Some(network), Some(address)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("is not SYMBOL:network:address (for example USDC:ethereum:0x…)".into());
    };
    let symbol = symbol.to_ascii_uppercase();
    if !(2..=10).contains(&symbol.len()) || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("has no valid symbol: use 2 to 10 letters or digits, like USDC".into());
    }
    let network = Network::find(network).ok_or_else(|| {
        let known: Vec<_> = crate::mesh::NETWORKS.iter().map(|n| n.name).collect();
        format!(
            "names an unknown network \"{network}\": use one of {} (or its Mesh network id)",
            known.join(", ")
        )
    })?;
    let valid = if network.evm {
        address.len() == 42
            && address.starts_with("0x")
            && address[2..].chars().all(|c| c.is_ascii_hexdigit())
    } else {
        (32..=44).contains(&address.len())
            && address
                .chars()
                .all(|c| c.is_ascii_alphanumeric() && !"0OIl".contains(c))
    };
    if !valid {
        let shape = if network.evm {
            "0x and 40 hex digits"
        } else {
            "32 to 44 base58 characters"
        };
        return Err(format!(
            "has an address that is not a valid {} address ({shape})",
            network.name
        ));
    }
    Ok(DepositAddress {
        symbol,
        network,
        address: address.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulated_addresses_are_valid() {
        let addresses = parse_deposit_addresses(EMULATED_DEPOSIT_ADDRESSES).expect("valid");
        let names: Vec<_> = addresses
            .iter()
            .map(|a| format!("{} {}", a.symbol, a.network.name))
            .collect();
        assert_eq!(names, ["USDC Ethereum", "ETH Base", "SOL Solana"]);
    }

    #[test]
    fn every_bad_entry_gets_a_sentence() {
        let problems = parse_deposit_addresses(
            "usdc:Ethereum:0x5e1ec7ed00c0ffee00000000000000000000dead, USDC:dogechain:abc,\n\
             ETH:base:0x12, nonsense, USDC:ethereum:0x5e1ec7ed00c0ffee00000000000000000000beef",
        )
        .expect_err("refused");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("unknown network \"dogechain\""));
        assert!(problems[1].contains("not a valid Base address"));
        assert!(problems[2].contains("SYMBOL:network:address"));
        assert!(problems[3].contains("repeats USDC on Ethereum"));
    }
}
