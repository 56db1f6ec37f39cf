//! The accounts list and its Disconnect forms (part of the page's island).

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::{Disconnect, ListConnections, SaveConnection};
use crate::accounts::ConnectionSummary;
use crate::error::AppError;
use mesh_link::IntegrationConnected;

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
pub fn AccountList(
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
                <a class="deposit-from" href=crate::deposits::from_url(&id) hidden=!connection.can_deposit>
                    "Deposit from this account"
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
