//! Several apps in one process, as these test suites run them: building one must not stall the
//! pages another is rendering.

mod common;

use common::{SECRET, TestApp};

#[tokio::test]
async fn pages_render_while_another_app_is_built_in_the_same_process() {
    let app = TestApp::start(SECRET).await;
    // Another thread (another runtime, as another test would) builds apps one after another.
    let builder = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for _ in 0..20 {
            runtime.block_on(TestApp::start(SECRET));
        }
    });
    let mut pages = 0;
    while !builder.is_finished() || pages < 20 {
        let page = app
            .http
            .get(format!("http://{}/", app.addr))
            .send()
            .await
            .unwrap();
        // A stalled render is answered 408 when the request times out.
        assert_eq!(page.status(), 200, "page {pages}");
        assert!(page.text().await.unwrap().contains("Mesh is emulated"));
        pages += 1;
    }
    builder.join().unwrap();
}
