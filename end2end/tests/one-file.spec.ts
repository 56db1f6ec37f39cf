import { expect, test } from "@playwright/test";
import { accounts, connectBroker, waitForHydration } from "./helpers";

// The release binary, copied alone into an empty folder (`scripts/test.sh --release`), serves the
// whole site from memory: versioned names, precompressed answers and the right caching.
test.skip(!process.env.E2E_APP_BINARY, "runs against the release binary: scripts/test.sh --release");

test("the lone release binary serves a versioned, compressed, cached site and the whole flow", async ({
  page,
  request,
}) => {
  const served: { url: string; encoding?: string; cache?: string; bytes: number }[] = [];
  page.on("requestfinished", async (request) => {
    const response = await request.response();
    if (response && /\/pkg\//.test(request.url())) {
      const headers = response.headers();
      served.push({
        url: request.url(),
        encoding: headers["content-encoding"],
        cache: headers["cache-control"],
        bytes: (await request.sizes()).responseBodySize,
      });
    }
  });
  const home = await page.goto("/");
  expect(home?.headers()["cache-control"]).toBe("private, no-store");
  await waitForHydration(page);
  await expect.poll(() => served.length).toBeGreaterThanOrEqual(3);
  // The first load as served (wasm + JS + CSS, brotli), counted from Chromium's network events:
  // 177,042 bytes when pinned, 14 KB of it the Deposit page's island (README, "Performance" says
  // what each piece costs). A change that grows it past the pin must earn its bytes and move the
  // pin in the same commit.
  const firstLoad = served.reduce((sum, file) => sum + file.bytes, 0);
  expect(firstLoad).toBeGreaterThan(0);
  expect(firstLoad, `first load ${firstLoad} bytes`).toBeLessThanOrEqual(177_500);

  await connectBroker(page, "Robinhood");
  await expect(accounts(page)).toHaveCount(1);
  await page.reload();
  await expect(accounts(page).first()).toContainText("Robinhood Individual");

  for (const ext of ["js", "wasm", "css"]) {
    const file = served.find((s) => new RegExp(`/pkg/mesh-link-starter\\.[0-9a-f]{30}\\.${ext}$`).test(s.url));
    expect(file, `a versioned .${ext} was loaded`).toBeDefined();
    expect(file?.encoding, `.${ext} compressed`).toBe("br");
    expect(file?.cache).toBe("public, max-age=31536000, immutable");
  }

  const wasm = served.find((s) => s.url.endsWith(".wasm"))!.url;
  const gzip = await request.get(wasm, { headers: { "accept-encoding": "gzip" } });
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  expect(gzip.headers()["vary"]).toBe("accept-encoding");

  const favicon = await request.get("/favicon.ico");
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()["cache-control"]).toBe("public, max-age=300, must-revalidate");
  // Static files are the same for everybody: no session is made for them.
  expect(favicon.headers()["set-cookie"]).toBeUndefined();
  const etag = favicon.headers()["etag"];
  const revalidated = await request.get("/favicon.ico", { headers: { "if-none-match": etag } });
  expect(revalidated.status()).toBe(304);

  const stale = await request.get("/pkg/mesh-link-starter.000000000000000000000000000000.wasm");
  expect(stale.status()).toBe(404);
});
