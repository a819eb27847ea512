/** Puppeteer drives Debian's /usr/bin/chromium (the tests' harness names it); it downloads no browser. */
module.exports = { skipDownload: true };
