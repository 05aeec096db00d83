// linli 邻里: duty staff answer residents within the hour; residents report, book and sign up.
const api = require('./utils/api')
const session = require('./utils/session')

App({
  onLaunch() {
    // Log in silently on every launch: a bound staff member's WeChat gets a staff token.
    if (!session.token()) api.login().catch(err => api.showError(err))
  },
})
