// Free slots at the station, day by day; book one (with an idempotency key, so a retry on a bad
// network books once), or move an existing booking (?code=) to another slot.
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const session = require('../../../utils/session')

const DAYS = 7

Component({
  data: { key: '', code: '', station: null, days: [], date: '', slots: [], dayMessage: '', busy: false, error: '' },
  methods: {
    onLoad(query) {
      const today = format.localDate()
      const days = Array.from({ length: DAYS }, (_, i) => {
        const date = format.addDays(today, i)
        return { date, label: i === 0 ? '今天' : format.day(`${date}T00:00`).replace(/^\d+月/, '') }
      })
      this.setData({ key: query.key || '', code: query.code || '', days, date: today })
      // A fresh key per booking attempt (kept while this page is open).
      this.idempotencyKey = api.newKey('book')
      return api.call('stations', { community_id: session.communityId() }).then(answer => {
        this.setData({ station: answer.stations[0] || null })
        if (!answer.stations[0]) this.setData({ error: '本社区还没有开通代办站预约' })
        else return this.loadSlots()
        return null
      }).catch(err => this.setData({ error: err.message }))
    },
    pickDay(e) {
      this.setData({ date: e.currentTarget.dataset.date })
      return this.loadSlots()
    },
    loadSlots() {
      return api.call('slots', { station_id: this.data.station.id, date: this.data.date }).then(day => this.setData({
        slots: day.slots.map(s => Object.assign({}, s, { time: `${format.clock(s.start)}–${format.clock(s.end)}` })),
        dayMessage: day.open ? (day.slots.length ? '' : day.message || '当天已约满') : (day.message || '当天不办公'),
      })).catch(err => api.showError(err))
    },
    choose(e) {
      const start = e.currentTarget.dataset.start
      this.setData({ busy: true })
      const call = this.data.code
        ? api.call('reschedule', { code: this.data.code }, { slot_start: start })
        : api.call('book', {}, { service_key: this.data.key, station_id: this.data.station.id, slot_start: start,
          idempotency_key: this.idempotencyKey })
      return call.then(booking => {
        this.setData({ busy: false })
        wx.showModal({
          title: this.data.code ? '已改约' : '预约成功',
          content: `${booking.service_item.name}\n${format.day(booking.slot_start)} ${format.clock(booking.slot_start)}\n预约码 ${booking.code}（到窗口出示）`,
          showCancel: false,
          success: () => wx.redirectTo({ url: '/pages/resident/bookings/bookings' }),
        })
      }).catch(err => {
        this.setData({ busy: false })
        api.showError(err)
        return this.loadSlots()
      })
    },
  },
})
