import { accounts, connectBroker, expect, test, waitForHydration } from "./helpers";

// The release binary, copied alone into an empty folder (`scripts/test.sh --release`), serves the
// whole site from memory: versioned names, precompressed answers and the right caching.
test.skip(!process.env.E2E_APP_BINARY, "runs against the release binary: scripts/test.sh --release");

/** The first load of `/` as served, in bytes, when pinned. 166,000 until the Link client became
 *  a crate of its own and the islands shared one launcher, which cost 1.4 KB; 167,000 until the
 *  accounts list offered "Deposit from this account" and Link took a session's own tokens,
 *  which cost 1 KB; 150,000 since Link's own code became a chunk fetched with the first link
 *  token (see the README). */
const FIRST_LOAD = 150_000;

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
  // FIRST_LOAD bytes when pinned (README, "Performance" says what each piece costs). A change
  // that grows it past the pin must earn its bytes and move the pin in the same commit.
  const firstLoad = served.reduce((sum, file) => sum + file.bytes, 0);
  expect(firstLoad).toBeGreaterThan(0);
  expect(firstLoad, `first load ${firstLoad} bytes`).toBeLessThanOrEqual(FIRST_LOAD);
  // The Deposit page's island is lazy: its chunk is not part of any other page's load.
  expect(served.filter((s) => /\/split_[^/]*\.wasm$/.test(s.url))).toEqual([]);

  await connectBroker(page, "Robinhood");
  await expect(accounts(page)).toHaveCount(1);
  // Link's own code is a chunk too, fetched once the first link token arrived.
  expect(served.filter((s) => /\/split_open_link_[^/]*\.wasm$/.test(s.url))).toHaveLength(1);
  await page.reload();
  await expect(accounts(page).first()).toContainText("Robinhood Individual");

  for (const ext of ["js", "wasm", "css"]) {
    const file = served.find((s) => new RegExp(`/pkg/[0-9a-f]{30}/mesh-link-starter\\.${ext}$`).test(s.url));
    expect(file, `a versioned .${ext} was loaded`).toBeDefined();
    expect(file?.encoding, `.${ext} compressed`).toBe("br");
    expect(file?.cache).toBe("public, max-age=31536000, immutable");
  }
  // The Deposit page fetches its island's chunk, from the same versioned folder, and hydrates it.
  const folder = served[0].url.replace(/\/[^/]*$/, "/");
  served.length = 0;
  await page.goto("/deposit");
  await expect(page.getByRole("button", { name: "Deposit" })).toBeEnabled();
  const chunk = served.find((s) => /\/split_[^/]*\.wasm$/.test(s.url));
  expect(chunk, "the lazy island's chunk was loaded").toBeDefined();
  expect(chunk!.url.startsWith(folder)).toBe(true);
  expect(chunk?.encoding).toBe("br");
  expect(chunk?.cache).toBe("public, max-age=31536000, immutable");

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

  const stale = await request.get("/pkg/000000000000000000000000000000/mesh-link-starter.wasm");
  expect(stale.status()).toBe(404);
});
