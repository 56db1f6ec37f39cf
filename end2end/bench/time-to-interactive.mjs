// Time from navigation until the Connect button can open Link, in Chromium on a slow phone
// network (DevTools protocol throttling: 1.6 Mbps down, 750 kbps up, 150 ms round trip), each
// run in a fresh context (cold cache). Prints every run and the median.
//
//   node bench/time-to-interactive.mjs http://127.0.0.1:3000 [runs]
import { chromium } from "@playwright/test";

const [url, runsArg] = process.argv.slice(2);
if (!url) {
  console.error("usage: node bench/time-to-interactive.mjs <app url> [runs]");
  process.exit(2);
}
const runs = Number(runsArg ?? 5);
/** Chrome DevTools' "Slow 4G"-like phone profile, as the lean-first-load issue states it. */
const SLOW_PHONE = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1_000_000) / 8,
  uploadThroughput: (750 * 1_000) / 8,
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const times = [];
try {
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", SLOW_PHONE);
    await page.goto(url, { waitUntil: "commit" });
    // performance.now() counts from the navigation's start.
    const handle = await page.waitForFunction(
      () => {
        const button = [...document.querySelectorAll("button")].find(
          (b) => b.textContent === "Connect an account" && !b.disabled,
        );
        return button ? performance.now() : null;
      },
      undefined,
      { polling: 10, timeout: 60_000 },
    );
    const ms = Math.round(await handle.jsonValue());
    times.push(ms);
    console.log(`run ${run + 1}: ${ms} ms`);
    await context.close();
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
console.log(`median of ${runs}: ${times[Math.floor(runs / 2)]} ms`);
