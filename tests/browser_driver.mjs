#!/usr/bin/env node
// Drives headless Chromium with playwright-core for tests/browser_test.ts.
// It always runs on Node (a child process of the test, whatever runtime the
// test runs on), so the server under test stays ffinet's, in the test's own
// runtime; this script is only the browser's remote control.
//
//   node tests/browser_driver.mjs '{"chromium":"/usr/bin/chromium","trustCert":"<PEM>","urls":["http://127.0.0.1:PORT/"]}'
//
// For each URL: load it, wait (bounded) until the page's `#result` element
// carries `data-done`, and collect its text. `trustCert` (a leaf's PEM) makes
// Chromium accept that one certificate (by its public key's SHA-256,
// --ignore-certificate-errors-spki-list), not every certificate. Prints one
// JSON line: [{ url, text, console }] in URL order, or { error }.
import { createHash, X509Certificate } from "node:crypto";
import { chromium } from "playwright-core";

const config = JSON.parse(process.argv[2] ?? "{}");
const WAIT_MS = config.waitMs ?? 10_000;

function spkiHash(pem) {
  const der = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

const args = ["--no-sandbox", "--no-proxy-server", "--disable-gpu", "--disable-dev-shm-usage"];
if (config.trustCert) args.push(`--ignore-certificate-errors-spki-list=${spkiHash(config.trustCert)}`);

let browser;
try {
  browser = await chromium.launch({ executablePath: config.chromium, args, timeout: 2 * WAIT_MS });
  const context = await browser.newContext();
  const results = [];
  for (const url of config.urls) {
    const page = await context.newPage();
    const console = [];
    page.on("console", (message) => console.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => console.push(`pageerror: ${error.message}`));
    await page.goto(url, { timeout: WAIT_MS, waitUntil: "load" });
    await page.waitForSelector("#result[data-done]", { timeout: WAIT_MS, state: "attached" });
    const text = await page.textContent("#result");
    results.push({ url, text, console });
    await page.close();
  }
  process.stdout.write(JSON.stringify(results) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error) }) + "\n");
} finally {
  await browser?.close().catch(() => {});
}
