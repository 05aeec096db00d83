// `npx jest -c tools/screenshots.config.js`: render the main pages with the recorded API into
// HTML for tools/screenshots.sh (headless Chromium) — the README's pictures. Not a test run.
module.exports = {
  rootDir: '..',
  testEnvironment: 'jsdom',
  testEnvironmentOptions: { url: 'https://servicewechat.com/' },
  testMatch: ['<rootDir>/tools/render-pages.js'],
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.js'],
}
