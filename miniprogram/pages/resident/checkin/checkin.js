// My check-in code for the staff scanner. Each code is signed and short-lived; the page asks
// for a fresh one before it expires, so a screenshot passed around stops working.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

const REFRESH_BEFORE_MS = 30 * 1000

Component({
  data: { signupId: null, code: '', action: 'checkin', expires: '', error: '' },
  methods: {
    onLoad(query) {
      this.setData({ signupId: Number(query.signup) })
      return this.refresh()
    },
    onUnload() {
      if (this.timer) clearTimeout(this.timer)
    },
    refresh() {
      if (this.timer) clearTimeout(this.timer)
      return api.call('checkinCode', { signup_id: this.data.signupId }).then(answer => {
        this.setData({ code: answer.code, action: answer.action, expires: format.clock(answer.expires_at), error: '' })
        const wait = Math.max(5000, Date.parse(answer.expires_at) - Date.now() - REFRESH_BEFORE_MS)
        this.timer = setTimeout(() => this.refresh(), wait)
      }).catch(err => this.setData({ code: '', error: err.message }))
    },
  },
})
