// Component and page tests with miniprogram-simulate (j-component under jsdom).
module.exports = {
  testEnvironment: 'jsdom',
  testEnvironmentOptions: { url: 'https://servicewechat.com/' },
  testMatch: ['<rootDir>/test/**/*.test.js'],
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.js'],
  // A run that finds no test is a failure, not a pass.
  passWithNoTests: false,
}
