import * as path from "node:path";
import * as esbuild from "esbuild";
import { accounts, connectBroker, expect, linkFrame, test } from "./helpers";

// Mesh's own web SDK (@meshconnect/web-link-sdk 3.13, bundled here by esbuild) against the
// emulated Link: with its `accessTokens` option set, the SDK posts `frontAccessTokens` after
// `loaded` and `meshSDKSpecs`, to the link token's origin, and the emulated Link honours it.

// The host page below is answered by the test itself, so it has no address, and Chromium's
// local-network checks would take it for a public page and block the emulated Link on loopback (a
// host page served by the app is local). This file's browser runs without those checks.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-features=LocalNetworkAccessChecks"],
  },
});

/** The SDK as a browser script that sets `window.createMeshLink`. */
async function sdkScript(): Promise<string> {
  const built = await esbuild.build({
    stdin: {
      contents: 'import { createLink } from "@meshconnect/web-link-sdk"; window.createMeshLink = createLink;',
      resolveDir: path.resolve(__dirname, ".."),
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    write: false,
    logLevel: "error",
  });
  return built.outputFiles[0].text;
}

test("the SDK's accessTokens take a returning user straight to the transfer", async ({ page }) => {
  await page.goto("/");
  await connectBroker(page, "Coinbase", { code: "123456" });
  await expect(accounts(page).filter({ hasText: "Coinbase" })).toHaveCount(1);
  const list = await (await page.request.post("/api/list_connections")).json();
  const coinbase = list.find((c: { broker_type: string }) => c.broker_type === "coinbase");
  const response = await page.request.post("/api/create_deposit_from_connection", {
    form: { id: coinbase.id, asset: "0", amount: "25" },
  });
  expect(response.status()).toBe(200);
  const answer = await response.json();

  // A host page of the app's origin (one Link allows) that uses the SDK instead of this app's
  // Link client.
  const script = await sdkScript();
  // The SDK warms up Mesh's real site; offline, it is refused at once.
  await page.route("https://web.meshconnect.com/**", (route) => route.abort());
  await page.route("**/sdk-host", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><html><head><title>SDK host</title></head><body><script>${script}</script></body></html>`,
    }),
  );
  await page.goto("/sdk-host");
  await page.evaluate(
    ([linkToken, accessToken]) => {
      const w = window as unknown as { createMeshLink: Function; sdkEvents: string[] };
      w.sdkEvents = [];
      const link = w.createMeshLink({
        clientId: "emulator-client",
        accessTokens: [accessToken],
        onIntegrationConnected: () => {},
        onExit: () => {},
        onEvent: (event: { type: string }) => w.sdkEvents.push(event.type),
      });
      link.openLink(linkToken);
    },
    [answer.link_token, answer.access_token],
  );
  const link = linkFrame(page);
  await expect(link.getByRole("heading", { name: "Choose what to send" })).toBeVisible();
  await expect(link.getByRole("heading", { name: "Select your account" })).toHaveCount(0);
  await expect(link.getByLabel("Password")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { sdkEvents: string[] }).sdkEvents)).toContain(
    "pageLoaded",
  );
});
