//! Feature: the connected accounts. `save_connection` stores what Link captured (tokens go in
//! once, encrypted, and never come back), `list_connections` shows summaries, `disconnect`
//! revokes at Mesh and forgets.

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::link::IntegrationConnected;
use crate::model::ConnectionSummary;

/// Stores the accounts (or the delayed authentication) Link handed over, all or none, and
/// returns their summaries.
#[server(endpoint = "save_connection", input = server_fn::codec::Json)]
pub async fn save_connection(
    payload: IntegrationConnected,
) -> Result<Vec<ConnectionSummary>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    let saved = match payload {
        IntegrationConnected::AccessToken(payload) => {
            let accounts = ssr::validate_accounts(payload)?;
            ssr::within_the_cap(&state, &user, &accounts).await?;
            state.vault.save_accounts(&user, accounts).await
        }
        IntegrationConnected::DelayedAuth(payload) => {
            let pending = ssr::validate_pending(payload)?;
            state
                .vault
                .save_pending(&user, pending)
                .await
                .map(|c| vec![c])
        }
    };
    saved
        .map(|list| list.into_iter().map(ssr::summary).collect())
        .map_err(|error| ssr::vault_failure("save a connection", error))
}

/// The session user's connections.
#[server(endpoint = "list_connections")]
pub async fn list_connections() -> Result<Vec<ConnectionSummary>, AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    state
        .vault
        .list(&user)
        .await
        .map(|list| list.into_iter().map(ssr::summary).collect())
        .map_err(|error| ssr::vault_failure("list connections", error))
}

/// Revokes connection `id` at Mesh, then deletes it. If Mesh answers that the token is no
/// longer valid it is deleted anyway; if Mesh refuses our keys or cannot be reached it is kept.
#[server(endpoint = "disconnect")]
pub async fn disconnect(id: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let user = crate::state::current_user()?.to_string();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::invalid("id must be a connection id."));
    }
    if ssr::revoke_and_delete(&state.mesh, &state.vault, &user, &id).await? {
        Ok(())
    } else {
        Err(AppError::new(
            crate::error::ErrorKind::NotFound,
            "That connection does not exist (it may already be disconnected).",
        ))
    }
}

/// Server-side validation and conversion: the wire payload becomes the vault's secret types.
#[cfg(feature = "ssr")]
pub mod ssr {
    use secrecy::SecretString;
    use server::vault::{
        BrokerInfo, BrokerTokens, ConnectedAccounts, Connection, NewAccount, PendingConnection,
        VaultError,
    };

    use crate::error::AppError;
    use crate::link::{AccessTokenPayload, BrandInfo, DelayedAuthPayload};
    use crate::model::ConnectionSummary;

    /// Longest token accepted, in bytes.
    pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
    /// Longest id or name accepted, in characters.
    pub const MAX_TEXT_CHARS: usize = 256;
    /// Most accounts in one payload.
    pub const MAX_ACCOUNTS: usize = 50;
    /// Largest logo kept; a larger one is dropped so a token is never lost for a logo.
    pub const MAX_LOGO_BYTES: usize = 512 * 1024;
    /// Longest token lifetime believed (ten years); longer values are treated as absent.
    const MAX_LIFETIME_SECONDS: u64 = 10 * 365 * 24 * 3600;

    fn token(field: &str, value: String) -> Result<SecretString, AppError> {
        if value.is_empty() || value.len() > MAX_TOKEN_BYTES {
            return Err(AppError::invalid(format!(
                "{field} must be 1 to {MAX_TOKEN_BYTES} bytes."
            )));
        }
        Ok(SecretString::from(value))
    }

    /// 1 to [`MAX_TEXT_CHARS`] characters, none of them control characters.
    fn is_text(value: &str) -> bool {
        let chars = value.chars().count();
        chars > 0 && chars <= MAX_TEXT_CHARS && !value.chars().any(char::is_control)
    }

    fn text(field: &str, value: String) -> Result<String, AppError> {
        if !is_text(&value) {
            return Err(AppError::invalid(format!(
                "{field} must be 1 to {MAX_TEXT_CHARS} characters of text."
            )));
        }
        Ok(value)
    }

    fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, AppError> {
        value.map(|v| text(field, v)).transpose()
    }

    fn amount(field: &str, value: Option<f64>) -> Result<Option<f64>, AppError> {
        match value {
            Some(v) if !v.is_finite() => {
                Err(AppError::invalid(format!("{field} must be a number.")))
            }
            other => Ok(other),
        }
    }

    fn lifetime(value: Option<u64>) -> Option<u64> {
        value.filter(|&s| s <= MAX_LIFETIME_SECONDS)
    }

    fn broker(
        broker_type: String,
        broker_name: String,
        brand: BrandInfo,
    ) -> Result<BrokerInfo, AppError> {
        let logo = if brand.broker_logo.is_empty() {
            None
        } else if brand.broker_logo.len() > MAX_LOGO_BYTES {
            tracing::info!(
                bytes = brand.broker_logo.len(),
                "dropping an oversized broker logo"
            );
            None
        } else {
            Some(brand.broker_logo)
        };
        Ok(BrokerInfo {
            broker_type: text("brokerType", broker_type)?,
            broker_name: text("brokerName", broker_name)?,
            logo,
        })
    }

    /// Checks every limit of an access-token payload; the first violation names its field.
    pub fn validate_accounts(payload: AccessTokenPayload) -> Result<ConnectedAccounts, AppError> {
        let count = payload.account_tokens.len();
        if count == 0 || count > MAX_ACCOUNTS {
            return Err(AppError::invalid(format!(
                "accountTokens must hold 1 to {MAX_ACCOUNTS} accounts, not {count}."
            )));
        }
        let broker = broker(
            payload.broker_type,
            payload.broker_name,
            payload.broker_brand_info,
        )?;
        let accounts = payload
            .account_tokens
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let field = |name: &str| format!("accountTokens[{i}].{name}");
                let account_id = text(&field("account.accountId"), entry.account.account_id)?;
                // A missing or unusable name is decoration: show the account id instead.
                let name = entry.account.account_name;
                let account_name = if is_text(&name) {
                    name
                } else {
                    account_id.clone()
                };
                Ok(NewAccount {
                    account_id,
                    account_name,
                    cash: amount(&field("account.cash"), entry.account.cash)?,
                    fund: amount(&field("account.fund"), entry.account.fund)?,
                    token_id: optional_text(&field("tokenId"), entry.token_id)?,
                    tokens: BrokerTokens {
                        access_token: token(&field("accessToken"), entry.access_token)?,
                        refresh_token: entry
                            .refresh_token
                            .map(|t| token(&field("refreshToken"), t))
                            .transpose()?,
                    },
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(ConnectedAccounts {
            broker,
            accounts,
            expires_in_seconds: lifetime(payload.expires_in_seconds),
            refresh_expires_in_seconds: lifetime(payload.refresh_token_expires_in_seconds),
        })
    }

    /// Checks a delayed-authentication payload.
    pub fn validate_pending(payload: DelayedAuthPayload) -> Result<PendingConnection, AppError> {
        Ok(PendingConnection {
            refresh_token: token("refreshToken", payload.refresh_token)?,
            refresh_expires_in_seconds: lifetime(payload.refresh_token_expires_in_seconds),
            broker: broker(
                payload.broker_type,
                payload.broker_name,
                payload.broker_brand_info,
            )?,
        })
    }

    /// Refuses a save that would give `user` more than the state's `max_connections_per_user`
    /// connections; accounts connected again replace their rows and do not count.
    pub async fn within_the_cap(
        state: &crate::state::AppState,
        user: &str,
        connected: &ConnectedAccounts,
    ) -> Result<(), AppError> {
        let cap = state.max_connections_per_user;
        let held = state
            .vault
            .count(user)
            .await
            .map_err(|error| vault_failure("count connections", error))?;
        // Far from the cap (nearly always) a count is enough; near it, reconnected accounts
        // must not count, which takes the list.
        if held as usize + connected.accounts.len() <= cap {
            return Ok(());
        }
        let stored = state
            .vault
            .list(user)
            .await
            .map_err(|error| vault_failure("list connections", error))?;
        let new = connected
            .accounts
            .iter()
            .filter(|account| {
                !stored.iter().any(|row| {
                    row.broker_type == connected.broker.broker_type
                        && row.account_id.as_deref() == Some(account.account_id.as_str())
                })
            })
            .count();
        if stored.len() + new > cap {
            return Err(AppError::invalid(format!(
                "You have {} connected accounts; the limit is {cap}. Disconnect some before connecting more.",
                stored.len()
            )));
        }
        Ok(())
    }

    /// An amount in US dollars as Link reported it (the vault keeps Link's number), to the cent.
    fn dollars(amount: f64) -> String {
        let exact = rust_decimal::Decimal::try_from(amount).unwrap_or_default();
        crate::format::money(exact, "USD")
    }

    /// What the browser may see of a stored connection.
    pub fn summary(connection: Connection) -> ConnectionSummary {
        ConnectionSummary {
            pending: connection.is_pending(),
            id: connection.id,
            broker_type: connection.broker_type,
            broker_name: connection.broker_name,
            logo_url: connection
                .logo_hash
                .map(|hash| format!("{}/{hash}", crate::logos::LOGOS_PATH)),
            account_name: connection.account_name,
            cash: connection.cash.map(dollars),
            fund: connection.fund.map(dollars),
            connected: crate::format::minute(connection.connected_at),
            expires: connection.expires_at.map(crate::format::minute),
            needs_reconnect: connection.needs_reconnect,
        }
    }

    /// Revokes the user's connection `id` at Mesh, then deletes it; false when there is no such
    /// connection. If Mesh answers that the token is no longer valid it is deleted anyway; if
    /// Mesh refuses our keys or cannot be reached it is kept, and the error says so.
    pub async fn revoke_and_delete(
        mesh: &server::mesh::MeshClient,
        vault: &server::vault::TokenVault,
        user: &str,
        id: &str,
    ) -> Result<bool, AppError> {
        let found = vault
            .find_with_tokens(user, id)
            .await
            .map_err(|error| vault_failure("read a connection", error))?;
        let Some((connection, tokens)) = found else {
            return Ok(false);
        };
        if let Some(access_token) = tokens.access_token {
            revoke(mesh, vault, user, &connection, access_token).await?;
        }
        vault
            .delete(user, id)
            .await
            .map_err(|error| vault_failure("delete a connection", error))
    }

    /// Revokes a connection's access token at Mesh. A token Mesh does not know is as good as
    /// revoked; an expired one is refreshed first (when it can be) and the new one revoked.
    /// Any other refusal keeps the connection, with a sentence saying so.
    async fn revoke(
        mesh: &server::mesh::MeshClient,
        vault: &server::vault::TokenVault,
        user: &str,
        connection: &Connection,
        access_token: SecretString,
    ) -> Result<(), AppError> {
        let broker_type = &connection.broker_type;
        let mut answer = mesh.delete_account(&access_token, broker_type).await;
        if answer
            .as_ref()
            .is_err_and(|error| error.access_token_expired())
        {
            answer = match refreshed_access_token(mesh, vault, user, &connection.id).await? {
                Some(fresh) => mesh.delete_account(&fresh, broker_type).await,
                // Nothing left that could use the connection at Mesh.
                None => Ok(()),
            };
        }
        match answer {
            Ok(()) => Ok(()),
            Err(error) if error.access_token_unknown() => {
                tracing::info!(
                    id = connection.id,
                    "Mesh no longer knows this token; deleting the connection"
                );
                Ok(())
            }
            Err(error) => {
                let refusal = crate::error::ssr::from_mesh("revoke a connection", error);
                Err(AppError::new(
                    refusal.kind,
                    format!("{} The account is still connected.", refusal.message),
                ))
            }
        }
    }

    /// A new access token for the connection, or `None` when it has no refresh token or its
    /// refresh token no longer works.
    async fn refreshed_access_token(
        mesh: &server::mesh::MeshClient,
        vault: &server::vault::TokenVault,
        user: &str,
        id: &str,
    ) -> Result<Option<SecretString>, AppError> {
        use crate::portfolio::tokens::{LEASE, Outcome, refresh_leased};

        let leased = vault
            .lease_one(user, id, LEASE)
            .await
            .map_err(|error| vault_failure("lease a connection", error))?;
        let Some(leased) = leased else {
            return Ok(None);
        };
        match refresh_leased(mesh, vault, leased).await {
            Outcome::Renewed => Ok(vault
                .find_with_tokens(user, id)
                .await
                .map_err(|error| vault_failure("read a connection", error))?
                .and_then(|(_, tokens)| tokens.access_token)),
            Outcome::NeedsReconnect => Ok(None),
            Outcome::Failed | Outcome::LeaseLost => Err(AppError::new(
                crate::error::ErrorKind::MeshRefused,
                "Mesh could not renew this account's expired sign-in to revoke it. The account is still connected; please try again shortly.",
            )),
        }
    }

    /// Logs a vault failure and returns the user's sentence.
    pub fn vault_failure(action: &str, error: VaultError) -> AppError {
        tracing::error!(%error, "could not {action}");
        AppError::internal()
    }

    #[cfg(test)]
    mod tests {
        use secrecy::ExposeSecret;

        use super::*;
        use crate::error::ErrorKind;
        use crate::link::{Account, AccountToken};

        fn entry(id: &str) -> AccountToken {
            AccountToken {
                account: Account {
                    account_id: id.into(),
                    account_name: "Individual".into(),
                    fund: Some(10.0),
                    cash: Some(5.0),
                    is_reconnected: None,
                },
                access_token: "at".into(),
                refresh_token: Some("rt".into()),
                token_id: None,
            }
        }

        fn payload(entries: Vec<AccountToken>) -> AccessTokenPayload {
            AccessTokenPayload {
                account_tokens: entries,
                broker_brand_info: BrandInfo {
                    broker_logo: "iVBOR".into(),
                    ..Default::default()
                },
                expires_in_seconds: Some(60),
                refresh_token_expires_in_seconds: None,
                broker_type: "robinhood".into(),
                broker_name: "Robinhood".into(),
            }
        }

        fn refused(payload: AccessTokenPayload) -> String {
            let error = validate_accounts(payload).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidInput);
            error.message
        }

        #[test]
        fn a_valid_payload_becomes_vault_accounts() {
            let accounts = validate_accounts(payload(vec![entry("a"), entry("b")])).unwrap();
            assert_eq!(accounts.accounts.len(), 2);
            assert_eq!(
                accounts.accounts[1].tokens.access_token.expose_secret(),
                "at"
            );
            assert_eq!(accounts.broker.logo.as_deref(), Some("iVBOR"));
            assert_eq!(accounts.expires_in_seconds, Some(60));
        }

        #[test]
        fn account_count_is_limited() {
            assert_eq!(
                refused(payload(vec![])),
                "accountTokens must hold 1 to 50 accounts, not 0."
            );
            let many = (0..51).map(|i| entry(&i.to_string())).collect();
            assert!(refused(payload(many)).contains("not 51"));
        }

        #[test]
        fn tokens_must_be_1_byte_to_8_kib() {
            let mut empty = entry("a");
            empty.access_token = String::new();
            assert_eq!(
                refused(payload(vec![entry("ok"), empty])),
                "accountTokens[1].accessToken must be 1 to 8192 bytes."
            );
            let mut huge = entry("a");
            huge.refresh_token = Some("x".repeat(8 * 1024 + 1));
            assert!(refused(payload(vec![huge])).starts_with("accountTokens[0].refreshToken"));
            let mut largest = entry("a");
            largest.access_token = "x".repeat(8 * 1024);
            assert!(validate_accounts(payload(vec![largest])).is_ok());
        }

        #[test]
        fn ids_and_names_are_limited_to_256_characters() {
            let mut long = entry(&"é".repeat(257));
            assert!(
                refused(payload(vec![long.clone()]))
                    .starts_with("accountTokens[0].account.accountId")
            );
            long.account.account_id = "é".repeat(256);
            assert!(validate_accounts(payload(vec![long])).is_ok());
            let mut nameless = payload(vec![entry("a")]);
            nameless.broker_name = String::new();
            assert!(refused(nameless).starts_with("brokerName"));
            let mut control = payload(vec![entry("a")]);
            control.broker_type = "robin\u{0}hood".into();
            assert!(refused(control).starts_with("brokerType"));
        }

        #[test]
        fn a_missing_or_unusable_account_name_falls_back_to_the_account_id() {
            for name in ["", "bad\u{0}name"] {
                let mut nameless = entry("acc-7");
                nameless.account.account_name = name.into();
                let accounts = validate_accounts(payload(vec![nameless])).unwrap();
                assert_eq!(accounts.accounts[0].account_name, "acc-7");
            }
        }

        #[test]
        fn amounts_must_be_numbers() {
            let mut nan = entry("a");
            nan.account.cash = Some(f64::NAN);
            assert_eq!(
                refused(payload(vec![nan])),
                "accountTokens[0].account.cash must be a number."
            );
        }

        #[test]
        fn an_oversized_logo_is_dropped_not_refused() {
            let mut big = payload(vec![entry("a")]);
            big.broker_brand_info.broker_logo = "A".repeat(MAX_LOGO_BYTES + 1);
            let accounts = validate_accounts(big).unwrap();
            assert!(accounts.broker.logo.is_none());
            assert_eq!(accounts.accounts.len(), 1);
        }

        #[test]
        fn delayed_auth_needs_a_refresh_token() {
            let pending = DelayedAuthPayload {
                refresh_token: String::new(),
                refresh_token_expires_in_seconds: None,
                broker_type: "coinbase".into(),
                broker_name: "Coinbase".into(),
                broker_brand_info: BrandInfo::default(),
            };
            assert_eq!(
                validate_pending(pending).unwrap_err().message,
                "refreshToken must be 1 to 8192 bytes."
            );
        }
    }
}

/// Why a Disconnect posted as a plain HTML form failed, from the query of the page it returns to
/// (`__path` and `__err`, where server functions put a form's error). The sentence is chosen
/// here from the error's kind, never copied from the URL, so a crafted link cannot put words in
/// the page.
pub fn no_script_disconnect_failure(path: Option<&str>, error: Option<&str>) -> Option<String> {
    use base64::Engine;
    use leptos::server_fn::error::FromServerFnError;

    if path != Some(Disconnect::PATH) {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(error?)
        .ok()?;
    let sentence = match AppError::de(bytes.into()).kind {
        crate::error::ErrorKind::NotFound => {
            "That connection does not exist (it may already be disconnected)."
        }
        crate::error::ErrorKind::MeshRefused | crate::error::ErrorKind::MeshUnreachable => {
            "Mesh could not revoke the connection, so the account is still connected. Please try again shortly."
        }
        _ => "The account could not be disconnected. Please try again.",
    };
    Some(sentence.to_string())
}

/// The persisted accounts, read again whenever a save or a disconnect completes, with the
/// saving progress and every error in words. Disconnect works as plain HTML forms before the
/// island hydrates (or without JavaScript): a `GET ?disconnect=<id>` asks for confirmation, and
/// the confirmation posts to the server function.
#[component]
pub fn ConnectedAccounts(
    /// The action that stores what Link captured (dispatched by the Connect button).
    save: ServerAction<SaveConnection>,
    /// The list as the server read it when it rendered the page.
    connections: Vec<ConnectionSummary>,
    /// Why the server could not read the list, when it could not.
    connections_failed: Option<String>,
    /// The connection whose Disconnect starts out asking for confirmation.
    confirm_disconnect: Option<String>,
    /// Why a Disconnect posted without JavaScript failed, when it did.
    disconnect_failed: Option<String>,
) -> impl IntoView {
    let disconnect = ServerAction::<Disconnect>::new();
    let reload = ServerAction::<ListConnections>::new();
    Effect::new(move || {
        if save.version().get() + disconnect.version().get() > 0 {
            reload.dispatch(ListConnections {});
        }
    });
    let connections = move || match reload.value().get() {
        Some(result) => result.map_err(|error| error.message),
        None => connections_failed
            .clone()
            .map_or_else(|| Ok(connections.clone()), Err),
    };
    let save_error = move || save.value().get().and_then(Result::err).map(|e| e.message);
    // Until a Disconnect runs here, only the no-script failure worded by the server is shown:
    // Leptos would also read an error from the page's URL, and anyone can write a URL.
    let disconnect_error = move || {
        if disconnect.version().get() == 0 && disconnect.input().with(Option::is_none) {
            disconnect_failed.clone()
        } else {
            disconnect
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| e.message)
        }
    };
    // Link hands the tokens over once: keep the last payload (in memory, never in the page)
    // until the server has it, so a failed save can be retried instead of lost.
    let unsaved = RwSignal::new(None::<IntegrationConnected>);
    Effect::new(move || {
        if let Some(payload) = save.input().get() {
            unsaved.set(Some(payload.payload));
        }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = save.value().get() {
            unsaved.set(None);
        }
    });
    let retry = move |_| {
        if let Some(payload) = unsaved.get_untracked() {
            save.dispatch(SaveConnection { payload });
        }
    };

    view! {
        <section aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Connected accounts"</h2>
            {move || save.pending().get().then(|| view! {
                <p class="status" aria-live="polite">"Saving your account…"</p>
            })}
            {move || save_error().map(|message| view! {
                <p class="error-text" role="alert">
                    "Could not save the account: " {message} " "
                    {move || unsaved.with(Option::is_some).then(|| view! {
                        <button on:click=retry>"Try again"</button>
                    })}
                </p>
            })}
            {move || disconnect_error().map(|message| view! {
                <p class="error-text" role="alert">{message}</p>
            })}
            // `EitherOf3` rather than `into_any()`: only the rendering paths in use reach the wasm.
            {move || match connections() {
                Err(message) => EitherOf3::A(view! { <p class="error-text" role="alert">{message}</p> }),
                Ok(list) if list.is_empty() => {
                    EitherOf3::B(view! { <p class="empty">"No accounts connected yet."</p> })
                }
                Ok(list) => EitherOf3::C(view! {
                    <ul class="accounts" aria-label="Connected accounts">
                        {list.into_iter().map(|connection| {
                            let confirming = confirm_disconnect.as_deref() == Some(connection.id.as_str());
                            view! {
                                <li class="card"><ConnectionItem connection disconnect confirming/></li>
                            }
                        }).collect_view()}
                    </ul>
                }),
            }}
        </section>
    }
}

/// One connection: logo, account, balances, dates, and a Disconnect button that asks first.
/// Both steps are forms, so they work before the page's code has loaded; once it has, they run
/// in place without reloading the page.
#[component]
fn ConnectionItem(
    connection: ConnectionSummary,
    disconnect: ServerAction<Disconnect>,
    /// Start on the confirmation step.
    confirming: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(confirming);
    let label = connection
        .account_name
        .clone()
        .unwrap_or_else(|| format!("{} (pending)", connection.broker_name));
    let logo = connection.logo_url;
    let mut details = vec![connection.broker_name.clone()];
    if connection.pending {
        details.push("waiting for the broker to finish signing in".into());
    }
    if connection.needs_reconnect {
        details.push("sign-in expired: reconnect this account".into());
    }
    details.extend(
        [("Cash", connection.cash), ("Fund", connection.fund)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name} {v}"))),
    );
    let mut dates = vec![format!("Connected {}", connection.connected)];
    if let Some(expires) = connection.expires {
        dates.push(format!("token expires {expires}"));
    }
    let id = connection.id.clone();
    let busy = Signal::derive(move || {
        disconnect.pending().get()
            && disconnect
                .input()
                .with(|input| input.as_ref().is_some_and(|i| i.id == id))
    });
    let portfolio_url = crate::portfolio::page_url(&connection.id);
    let id = connection.id;
    let question = format!("Disconnect {label}?");

    view! {
        <div class="account">
            {logo.map(|src| view! { <img src=src alt=format!("{} logo", connection.broker_name)/> })}
            <div class="details">
                <div class="name">{label}</div>
                <div class="meta">{details.join(" · ")}</div>
                <div class="meta">{dates.join(" · ")}</div>
                <a class="portfolio-link" href=portfolio_url>
                    "Balances and holdings"
                </a>
            </div>
            <Show
                when=move || confirming.get()
                fallback={
                    let id = id.clone();
                    move || view! {
                        // Without JavaScript: reloads the page with `?disconnect=<id>`, which
                        // renders the confirmation.
                        <form
                            method="get"
                            on:submit=move |event| {
                                event.prevent_default();
                                confirming.set(true);
                            }
                        >
                            <input type="hidden" name="disconnect" value=id.clone()/>
                            <button type="submit" class="danger" disabled=busy>
                                {move || if busy.get() { "Disconnecting…" } else { "Disconnect" }}
                            </button>
                        </form>
                    }
                }
            >
                <div class="confirm" role="group" aria-label=question.clone()>
                    <span>{question.clone()}</span>
                    // Without JavaScript: posts to `/api/disconnect`, which redirects back. With
                    // it, the action runs in place (what `ActionForm` does, without the generic
                    // form parsing it would add to the wasm).
                    {
                        let (id, field) = (id.clone(), id.clone());
                        view! {
                            <form
                                method="post"
                                action=Disconnect::url()
                                on:submit=move |event| {
                                    event.prevent_default();
                                    confirming.set(false);
                                    disconnect.dispatch(Disconnect { id: id.clone() });
                                }
                            >
                                <input type="hidden" name="id" value=field/>
                                <button type="submit" class="danger">"Yes, disconnect"</button>
                            </form>
                        }
                    }
                    // Without JavaScript: reloads the page without the question.
                    <form
                        method="get"
                        on:submit=move |event| {
                            event.prevent_default();
                            confirming.set(false);
                        }
                    >
                        <button type="submit">"Cancel"</button>
                    </form>
                </div>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::no_script_disconnect_failure;

    #[test]
    fn a_no_script_failure_is_worded_by_its_kind_never_by_the_url() {
        use base64::Engine;
        let encoded = |json: &str| base64::engine::general_purpose::URL_SAFE.encode(json);
        let forged = encoded(r#"{"kind":"NotFound","message":"Call 555-0100"}"#);
        assert_eq!(
            no_script_disconnect_failure(Some("/api/disconnect"), Some(&forged)).as_deref(),
            Some("That connection does not exist (it may already be disconnected).")
        );
        assert_eq!(
            no_script_disconnect_failure(Some("/api/save_connection"), Some(&forged)),
            None
        );
        assert_eq!(
            no_script_disconnect_failure(Some("/api/disconnect"), Some("%%not base64")),
            None
        );
        assert_eq!(no_script_disconnect_failure(None, None), None);
    }
}
