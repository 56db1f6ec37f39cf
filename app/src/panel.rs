//! The page's only island: the Connect button and the accounts list. They share the action that
//! saves what Link captured, so they hydrate together; the rest of the page is plain HTML that
//! ships no code to the browser.

use leptos::prelude::*;

use crate::accounts::ConnectionSummary;
use crate::accounts::{AccountList, SaveConnection};
use crate::connect::ConnectAccount;
use crate::link_settings::LinkSettings;
use mesh_link::IntegrationConnected;

/// Connect an account, and the accounts it connected. Its props are serialized into the page
/// and read back when the island hydrates.
#[island]
pub fn AccountsPanel(
    /// Which Mesh is in use and where Link may come from.
    settings: LinkSettings,
    /// Render Link inside the page instead of the overlay.
    embedded: bool,
    /// The user's connections, as the server read them to render the page.
    connections: Vec<ConnectionSummary>,
    /// Why the server could not read them, when it could not.
    connections_failed: Option<String>,
    /// The connection whose Disconnect asks for confirmation (`?disconnect=<id>`, the no-script
    /// path of the Disconnect button).
    confirm_disconnect: Option<String>,
    /// Why a Disconnect posted as a plain form failed, when it did.
    disconnect_failed: Option<String>,
    /// Open Link once hydrated (`?reconnect=1`).
    open_link: bool,
) -> impl IntoView {
    let save = ServerAction::<SaveConnection>::new();
    let on_connected = Callback::new(move |payload: IntegrationConnected| {
        save.dispatch(SaveConnection { payload });
    });
    view! {
        <ConnectAccount settings on_connected embedded open_on_load=open_link/>
        <AccountList save connections connections_failed confirm_disconnect disconnect_failed/>
    }
}
