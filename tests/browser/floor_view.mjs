// What a manager sees on /floor, in Debian's headless Chromium driven by puppeteer-core: opens
// URL once (no reload: updates must arrive by the page's own Server-Sent Events) and prints one
// JSON line whenever what the page shows changes:
//   {"at_ms": <wall clock>, "shown": [[store, location, customer], ...]}
// Runs until killed. With SCREENSHOT, the page is saved there each time it shows someone.
//   node floor_view.mjs URL [SCREENSHOT]
import puppeteer from "puppeteer-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // As root in a container-like machine: no sandbox; /dev/shm may be small.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const stop = async () => {
  await browser.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const page = await browser.newPage();
await page.setViewport({ width: 1100, height: 700 });
const response = await page.goto(url, { waitUntil: "domcontentloaded" });
console.error(`floor_view: ${url} answered ${response.status()}`);
let last = null;
for (;;) {
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll("[data-customer]")].map((element) => [
      element.closest("section").dataset.store,
      element.closest(".location").dataset.location,
      element.dataset.customer,
    ]),
  );
  const key = JSON.stringify(shown);
  if (key !== last) {
    console.log(JSON.stringify({ at_ms: Date.now(), shown }));
    last = key;
    if (screenshot && shown.length > 0) await page.screenshot({ path: screenshot, fullPage: true });
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
