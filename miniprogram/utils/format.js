// Times as people read them. The API answers ISO 8601 in the community's zone
// ("2026-11-17T09:30:00+08:00"), so the wall-clock part of the text is already local.
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六']

function parts(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || '')
  if (!m) return null
  return { year: +m[1], month: +m[2], day: +m[3], hour: m[4], minute: m[5] }
}

function dateTime(iso) {
  const p = parts(iso)
  return p ? `${p.month}月${p.day}日 ${p.hour}:${p.minute}` : ''
}

function clock(iso) {
  const p = parts(iso)
  return p ? `${p.hour}:${p.minute}` : ''
}

function day(iso) {
  const p = parts(iso)
  if (!p) return ''
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()
  return `${p.month}月${p.day}日（${WEEKDAYS[weekday]}）`
}

function pad(n) {
  return n < 10 ? `0${n}` : `${n}`
}

// "剩 42:05" before the deadline, "超时 3 分钟" after it.
function countdown(dueIso, nowMs = Date.now()) {
  const seconds = Math.floor((Date.parse(dueIso) - nowMs) / 1000)
  if (Number.isNaN(seconds)) return { text: '', seconds: 0, overdue: false, urgent: false }
  if (seconds <= 0) {
    const late = Math.floor(-seconds / 60)
    return { text: late ? `已超时 ${late} 分钟` : '已到时限', seconds, overdue: true, urgent: true }
  }
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const text = h ? `剩 ${h}:${pad(m)}:${pad(s)}` : `剩 ${pad(m)}:${pad(s)}`
  return { text, seconds, overdue: false, urgent: seconds <= 15 * 60 }
}

function localDate(nowMs = Date.now()) {
  // The community's date (UTC+8) whatever the phone's zone.
  const d = new Date(nowMs + 8 * 3600 * 1000)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}

function addDays(isoDate, days) {
  const [y, m, d] = isoDate.split('-').map(Number)
  const next = new Date(Date.UTC(y, m - 1, d + days))
  return `${next.getUTCFullYear()}-${pad(next.getUTCMonth() + 1)}-${pad(next.getUTCDate())}`
}

function hours(value) {
  const n = Number(value) || 0
  return Number.isInteger(n) ? `${n}` : n.toFixed(1)
}

// Photos from POST /uploads are paths on the linli server; <image> needs the whole URL.
// Anything else (a WeChat media URL from chat) is shown as it is.
function photoUrl(photo) {
  return typeof photo === 'string' && photo.charAt(0) === '/' ? require('../config').baseUrl + photo : photo
}

function photoUrls(photos) {
  return (photos || []).map(photoUrl)
}

module.exports = { dateTime, clock, day, countdown, localDate, addDays, hours, photoUrl, photoUrls }
