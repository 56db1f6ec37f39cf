//! The Deposit page: rendered on the server, with one island (the form, Link, and the transfers
//! list that follows each deposit to its final state without a reload).

use std::time::Duration;

use leptos::html;
use leptos::prelude::*;

use super::{CreateDepositFromConnection, CreateDepositLinkToken, ListTransfers, ReportTransfer};
use super::{get_deposit_settings, list_transfers};
use crate::deposits::{DepositSource, TransferLine};
use crate::error::ErrorKind;
use crate::launcher::{link_options, use_link_launcher};
use crate::link_settings::LinkSettings;
use mesh_link::LinkExit;

/// How often the list is read again while a transfer is still open.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The amount the form offers first, in US dollars.
const DEFAULT_AMOUNT: &str = "25";

/// `/deposit`: the deposit form and the user's transfers; "Page not found." (404) when no
/// deposit addresses are configured.
#[component]
pub fn DepositPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_deposit_settings());
    let transfers = Resource::new(|| (), |_| list_transfers());
    // `?from=<connection id>`: "Deposit from this account" chose the source.
    let from = leptos_router::hooks::use_query_map().with_untracked(|query| query.get("from"));
    view! {
        <header>
            <p><a href="/">"← All accounts"</a></p>
            <h1>"Deposit"</h1>
            <p class="lede">"Send crypto from an exchange account to this app through Mesh Link."</p>
            <noscript>
                <p class="status">"Depositing needs JavaScript. Your deposits below are listed without it."</p>
            </noscript>
        </header>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                let (transfers, transfers_failed) = match transfers.get()? {
                    Ok(list) => (list, None),
                    Err(error) => {
                        error.set_page_status();
                        (Vec::new(), Some(error.message))
                    }
                };
                settings.get().map(|settings| match settings {
                    Ok(settings) => view! {
                        {settings.emulated.then(|| view! {
                            <p class="banner emulated" role="note">
                                "Mesh is emulated: deposits go to stand-in addresses and no funds move. Set DEPOSIT_ADDRESSES to your own addresses before using Mesh's sandbox."
                            </p>
                        })}
                        {transfers_failed.map(|message| view! { <p class="banner error" role="alert">{message}</p> })}
                        <DepositPanel
                            link=settings.link
                            assets=settings.assets
                            sources=settings.sources
                            from=from.clone()
                            transfers
                        />
                    }
                    .into_any(),
                    Err(error) if error.kind == ErrorKind::NotFound => {
                        error.set_page_status();
                        view! { <p>"Page not found."</p> }.into_any()
                    }
                    Err(error) => {
                        error.set_page_status();
                        view! { <p class="banner error" role="alert">{error.message}</p> }.into_any()
                    }
                })
            }}
        </Suspense>
    }
}

/// The deposit form, Link, and the user's transfers. Link's `transferFinished` is recorded as
/// reported; the list is read again every [`POLL_EVERY`] while a transfer is open, so Mesh's
/// confirmation (webhook or poll) shows without a reload.
///
/// Lazy: in a `--split` build (see `app/build.rs`) its code is a chunk of its own that only the
/// Deposit page fetches, so the other pages' first load does not carry it.
#[cfg_attr(wasm_split, island(lazy))]
#[cfg_attr(not(wasm_split), island)]
pub fn DepositPanel(
    /// Where Link may come from.
    link: LinkSettings,
    /// The assets offered (`USDC on Ethereum`), in the server's order.
    assets: Vec<String>,
    /// The user's connected accounts a deposit can come from.
    sources: Vec<DepositSource>,
    /// The source chosen on arrival (a connection id), if any.
    from: Option<String>,
    /// The user's transfers, as the server read them to render the page.
    transfers: Vec<TransferLine>,
) -> impl IntoView {
    let list = RwSignal::new(transfers);
    // The controls are read when the form is submitted, never mirrored into signals: a person
    // may type or pick before this island's code arrives, and what they see is what is sent.
    let source_field = NodeRef::<html::Select>::new();
    let asset_field = NodeRef::<html::Select>::new();
    let amount_field = NodeRef::<html::Input>::new();
    let last_exit = RwSignal::new(None::<LinkExit>);
    let report = ServerAction::<ReportTransfer>::new();
    let refresh = ServerAction::<ListTransfers>::new();

    let mut options = link_options(&link);
    options.on_transfer_finished = Some(Callback::new(move |payload| {
        report.dispatch(ReportTransfer { payload });
    }));
    options.on_exit = Some(Callback::new(move |exit| last_exit.set(Some(exit))));
    let launcher = use_link_launcher::<CreateDepositLinkToken>(options);
    let (create, hydrated) = (launcher.token, launcher.hydrated);
    // From a connected account: Link opens on its integration and is handed its token, which
    // lives in Link's session only (the action's copy is dropped as soon as Link has it).
    let from_account = ServerAction::<CreateDepositFromConnection>::new();
    Effect::new(move || {
        if let Some(Ok(answer)) = from_account.value().get() {
            from_account.value().set(None);
            launcher.open(answer.link_token, vec![answer.access_token]);
        }
    });
    for action in [report.value(), refresh.value()] {
        Effect::new(move || {
            if let Some(Ok(lines)) = action.get() {
                list.set(lines);
            }
        });
    }
    // Effects run only in the browser: polling starts once the page has hydrated.
    Effect::new(move || {
        let poll = move || {
            let open = list.with_untracked(|lines| lines.iter().any(|line| line.open));
            if open && !refresh.pending().get_untracked() {
                refresh.dispatch(ListTransfers {});
            }
        };
        if let Ok(timer) = set_interval_with_handle(poll, POLL_EVERY) {
            on_cleanup(move || timer.clear());
        }
    });

    let busy = move || launcher.busy() || from_account.pending().get();
    let status = move || {
        if from_account.pending().get() {
            return "Requesting a link token…".to_string();
        }
        if let Some(progress) = launcher.progress("Link is open: finish the deposit there.") {
            return progress;
        }
        if let Some(Err(error)) = from_account.value().get() {
            return error.message;
        }
        if report.pending().get() {
            return "Recording the transfer…".to_string();
        }
        if let Some(error) = launcher.token_error() {
            return error;
        }
        if let Some(Err(error)) = report.value().get() {
            return error.message;
        }
        if let Some(Err(error)) = refresh.value().get() {
            return format!("The deposits below may be out of date: {}", error.message);
        }
        match last_exit.get() {
            Some(LinkExit {
                error: Some(error), ..
            }) => format!("Link closed: {error}"),
            _ if report.value().with(|r| matches!(r, Some(Ok(_)))) => {
                "Link reported the transfer; Mesh's confirmation shows below.".to_string()
            }
            Some(_) => "Link closed before a transfer was sent.".to_string(),
            None => String::new(),
        }
    };
    let failed = move || {
        matches!(create.value().get(), Some(Err(_)))
            || matches!(from_account.value().get(), Some(Err(_)))
            || matches!(report.value().get(), Some(Err(_)))
            || matches!(refresh.value().get(), Some(Err(_)))
            || matches!(last_exit.get(), Some(LinkExit { error: Some(_), .. }))
    };

    view! {
        <form
            class="deposit"
            on:submit=move |event| {
                event.prevent_default();
                let (Some(asset), Some(amount)) = (asset_field.get_untracked(), amount_field.get_untracked())
                else {
                    return;
                };
                last_exit.set(None);
                report.value().set(None);
                from_account.value().set(None);
                // Options are numbered by the server; anything else is refused there with its sentence.
                let asset = asset.value().parse().unwrap_or(usize::MAX);
                let source = source_field.get_untracked().map(|field| field.value()).unwrap_or_default();
                if source.is_empty() {
                    create.dispatch(CreateDepositLinkToken { asset, amount: amount.value() });
                } else {
                    from_account.dispatch(CreateDepositFromConnection {
                        id: source,
                        asset,
                        amount: amount.value(),
                    });
                }
            }
        >
            {(!sources.is_empty()).then(|| view! {
                <label for="deposit-source">"From"</label>
                <select id="deposit-source" node_ref=source_field>
                    <option value="">"Connect another exchange"</option>
                    {sources
                        .into_iter()
                        .map(|source| {
                            let selected = from.as_deref() == Some(source.id.as_str());
                            view! {
                                <option value=source.id selected=selected>
                                    {source.label} " (connected)"
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            })}
            <label for="deposit-asset">"Asset"</label>
            <select id="deposit-asset" node_ref=asset_field>
                {assets
                    .into_iter()
                    .enumerate()
                    .map(|(index, label)| view! { <option value=index.to_string()>{label}</option> })
                    .collect_view()}
            </select>
            <label for="deposit-amount">"Amount in US dollars"</label>
            <input
                id="deposit-amount"
                inputmode="decimal"
                autocomplete="off"
                value=DEFAULT_AMOUNT
                node_ref=amount_field
            />
            <button class="primary" type="submit" disabled=move || !hydrated.get() || busy()>
                {move || if hydrated.get() { "Deposit" } else { "Loading…" }}
            </button>
        </form>
        <p class="status" class:error=failed role="status" aria-live="polite">{status}</p>
        <section aria-labelledby="transfers-heading">
            <h2 id="transfers-heading">"Your deposits"</h2>
            <ul class="transfers" aria-label="Deposits">
                {move || {
                    list.get()
                        .into_iter()
                        .map(|line| {
                            let status = line.status.clone();
                            view! {
                                <li class="transfer" data-status=status>
                                    <span class="amount">{line.amount}</span>
                                    " on "
                                    {line.network}
                                    " "
                                    <span class="badge">{line.status}</span>
                                    <p class="note">{line.note}</p>
                                    <small>"Updated " {line.updated}</small>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || list.with(Vec::is_empty).then(|| view! { <p class="status">"No deposits yet."</p> })}
        </section>
    }
}
