//! The portfolio page: rendered on the server, with one small island, the Refresh button.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use leptos::server_fn::ServerFn;

use super::{RefreshConnection, get_portfolio};
use crate::error::{AppError, ErrorKind};
use crate::portfolio::Portfolio;

/// `/accounts/:id`: one connection's balances, holdings and history.
#[component]
pub fn PortfolioPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id").unwrap_or_default());
    let read = Resource::new(move || id.clone(), get_portfolio);
    view! {
        <header>
            <p><a href="/">"← All accounts"</a></p>
            <h1>"Portfolio"</h1>
        </header>
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || {
                read.get()
                    .map(|result| match result {
                        Ok(portfolio) => view! { <PortfolioView portfolio/> }.into_any(),
                        Err(error) => {
                            let id = use_params_map()
                                .with_untracked(|params| params.get("id").unwrap_or_default());
                            view! { <PortfolioError id error/> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn PortfolioView(portfolio: Portfolio) -> impl IntoView {
    let Portfolio {
        id,
        broker_name,
        account_name,
        fetched_at,
        balances,
        holdings,
        holdings_total,
        history_kind,
        history,
        can_deposit,
    } = portfolio;
    let deposit_url = crate::deposits::from_url(&id);
    view! {
        <section class="portfolio" aria-label="Portfolio">
            <h2>{broker_name} " · " {account_name}</h2>
            // A `div`: a form inside a `p` would end the paragraph and break the island's markup.
            <div class="fetched">"Fetched from Mesh at " {fetched_at} ". " <RefreshButton id/></div>
            {can_deposit.then(|| view! {
                <p><a class="deposit-from" href=deposit_url>"Deposit from this account"</a></p>
            })}
            <h3>"Balances"</h3>
            <table class="balances">
                <thead><tr><th>"Currency"</th><th class="num">"Cash"</th><th class="num">"Buying power"</th></tr></thead>
                <tbody>
                    {balances
                        .into_iter()
                        .map(|line| view! {
                            <tr><td>{line.currency}</td><td class="num">{line.cash}</td><td class="num">{line.buying_power}</td></tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
            <h3>"Holdings"</h3>
            {if holdings.is_empty() {
                view! { <p class="status">"This account holds no positions."</p> }.into_any()
            } else {
                view! {
                    <table class="holdings">
                        <thead>
                            <tr><th>"Symbol"</th><th>"Name"</th><th class="num">"Quantity"</th><th class="num">"Price"</th><th class="num">"Value"</th></tr>
                        </thead>
                        <tbody>
                            {holdings
                                .into_iter()
                                .map(|line| view! {
                                    <tr>
                                        <td>{line.symbol}</td>
                                        <td>{line.name}</td>
                                        <td class="num">{line.quantity}</td>
                                        <td class="num">{line.price}</td>
                                        <td class="num">{line.value}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                        <tfoot>
                            <tr><th colspan="4">"Total"</th><td class="num total">{holdings_total}</td></tr>
                        </tfoot>
                    </table>
                }
                    .into_any()
            }}
            <h3>{format!("Recent {}", history_kind.to_lowercase())}</h3>
            {if history.is_empty() {
                view! { <p class="status">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <table class="history">
                        <thead><tr><th>"Date"</th><th>"What"</th><th class="num">"Amount"</th><th>"Status"</th></tr></thead>
                        <tbody>
                            {history
                                .into_iter()
                                .map(|line| view! {
                                    <tr>
                                        <td>{line.date}</td>
                                        <td>{line.description}</td>
                                        <td class="num">{line.amount}</td>
                                        <td>{line.status}</td>
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}

/// Why the portfolio could not be read, and what to do about it: try again, and when the
/// broker's sign-in has expired, connect the account again.
#[component]
fn PortfolioError(id: String, error: AppError) -> impl IntoView {
    error.set_page_status();
    let reconnect = error.kind == ErrorKind::NeedsReconnect;
    view! {
        <p class="banner error" role="alert">{error.message}</p>
        <div class="actions">
            {reconnect.then(|| view! {
                <a class="button" href="/?reconnect=1">"Reconnect this account"</a>
                " "
            })}
            <RefreshButton id/>
        </div>
    }
}

/// Renews the account's sign-in at Mesh, then shows the page again with fresh figures. It is a
/// plain form that posts and comes back (the server formats everything, so the browser needs no
/// code to draw the answer); the island only shows that the refresh is under way. Lazy, as every
/// island off the home page: only the portfolio page fetches its code
/// (in a `--split` build; see `app/build.rs`).
#[cfg_attr(wasm_split, island(lazy))]
#[cfg_attr(not(wasm_split), island)]
pub fn RefreshButton(
    /// The connection to refresh.
    id: String,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    // Effects run only in the browser, once the island is live (tests wait for the mark).
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <form
            class="inline"
            method="post"
            action=RefreshConnection::url()
        >
            <input type="hidden" name="id" value=id/>
            // The form still posts: the click only marks the button while the page reloads.
            <button
                type="submit"
                data-hydrated=move || hydrated.get().to_string()
                on:click=move |_| pending.set(true)
            >
                {move || if pending.get() { "Refreshing…" } else { "Refresh" }}
            </button>
        </form>
    }
}
