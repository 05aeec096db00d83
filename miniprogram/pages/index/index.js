// Home: log in with wx.login, then the entries of what this person can do.
const api = require('../../utils/api')
const session = require('../../utils/session')

const RESIDENT_ENTRIES = [
  { icon: '📝', label: '反映问题', url: '/pages/resident/report/report' },
  { icon: '📋', label: '我的诉求', url: '/pages/resident/requests/requests' },
  { icon: '🏛', label: '社区代办', url: '/pages/resident/proxy/proxy' },
  { icon: '📅', label: '我的预约', url: '/pages/resident/bookings/bookings' },
  { icon: '🎉', label: '社区活动', url: '/pages/resident/events/events' },
  { icon: '🎫', label: '我的报名', url: '/pages/resident/signups/signups' },
  { icon: '🤝', label: '双报到', url: '/pages/resident/volunteer/volunteer' },
  { icon: '🎁', label: '微心愿', url: '/pages/resident/wishes/wishes' },
]
const STAFF_ENTRIES = [
  { icon: '⏱', label: '值班收件箱', url: '/pages/staff/inbox/inbox', badge: true },
  { icon: '📋', label: '诉求办理', url: '/pages/staff/requests/requests' },
  { icon: '🗓', label: '值班表', url: '/pages/staff/roster/roster' },
  { icon: '🏛', label: '代办窗口', url: '/pages/staff/desk/desk' },
  { icon: '🎉', label: '活动签到', url: '/pages/staff/events/events' },
  { icon: '🚨', label: '超时告警', url: '/pages/staff/alerts/alerts', roles: ['community_admin'] },
]
const INBOX_ROLES = ['duty', 'community_admin', 'grid_leader', 'grid_worker']

Component({
  data: { user: null, isStaff: false, entries: [], inboxCount: 0, loading: true, error: '' },

  methods: {
    onShow() {
      const ready = session.token() ? Promise.resolve(session.user()) : api.login()
      return ready.then(user => this.show(user)).catch(err => this.setData({ loading: false, error: err.message }))
    },

    show(user) {
      const isStaff = !!user && user.kind === 'staff'
      const roles = (user && user.roles) || []
      const entries = (isStaff ? STAFF_ENTRIES : RESIDENT_ENTRIES)
        .filter(e => !e.roles || e.roles.some(r => roles.includes(r)))
      this.setData({ user, isStaff, entries, loading: false, error: '' })
      if (isStaff && roles.some(r => INBOX_ROLES.includes(r))) return this.loadBadge()
      return null
    },

    loadBadge() {
      return api.call('inbox', { per_page: 50 }).then(page => {
        this.setData({ inboxCount: page.total })
        if (page.total) wx.setTabBarBadge({ index: 0, text: String(page.total) })
        else wx.removeTabBarBadge({ index: 0 })
      }).catch(() => null)
    },

    go(e) {
      wx.navigateTo({ url: e.currentTarget.dataset.url })
    },
    goBind() {
      wx.navigateTo({ url: '/pages/bind/bind' })
    },
  },
})
