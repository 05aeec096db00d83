// The linli API as recorded from the real Flask app (tests/miniprogram/recorder.py writes
// fixtures/api.json): a wx.request to a recorded method + path + query answers the recorded
// status and JSON. The bearer token must be the one the recording used for that call
// (staff, resident, ...), else the answer is the recorded 401, as the server would say.
const path = require('path')
const fs = require('fs')

const RECORDING = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'api.json'), 'utf8'))
const ENTRIES = RECORDING.entries
const BY_NAME = Object.fromEntries(ENTRIES.map(e => [e.name, e]))

// The token each kind of caller had: the answer of its last login (or bind).
const TOKENS = {
  pending: BY_NAME.login_new_staff_as_resident.response.token,
  stranger: BY_NAME.login_new_staff_as_resident.response.token,
  staff: BY_NAME.login_staff.response.token,
  resident: BY_NAME.login_resident.response.token,
  neighbour: BY_NAME.login_neighbour.response.token,
}

function entry(name) {
  const found = BY_NAME[name]
  if (!found) throw new Error(`no recorded answer named ${name}`)
  return found
}

function sameQuery(a, b) {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && String(a[k]) === String(b[k]))
}

function parseUrl(url) {
  const u = new URL(url)
  return { path: u.pathname, query: Object.fromEntries(u.searchParams.entries()) }
}

class FakeServer {
  constructor() {
    this.calls = []
    this.unmatched = []
    this.overrides = [] // answers named by a test for its next matching call
  }

  // The next call to this entry's method and path answers this entry (e.g. an error case).
  answer(...names) {
    names.forEach(name => this.overrides.push(entry(name)))
    return this
  }

  handle({ url, method = 'GET', data, header = {} }) {
    const { path: urlPath, query } = parseUrl(url)
    const call = { method, path: urlPath, query, body: data, header }
    this.calls.push(call)
    const index = this.overrides.findIndex(e => e.method === method && e.path === urlPath)
    let found
    if (index >= 0) {
      found = this.overrides.splice(index, 1)[0]
    } else {
      const sent = (header.Authorization || '').replace(/^Bearer /, '')
      const all = ENTRIES.filter(e => e.method === method && e.path === urlPath && sameQuery(e.query, query))
      // The answer recorded for this caller (one path answers staff and residents differently).
      const mine = all.filter(e => !e.auth || TOKENS[e.auth] === sent)
      const candidates = mine.length ? mine : all
      const body = JSON.stringify(data || {})
      found = candidates.find(e => JSON.stringify(e.body || {}) === body && e.status < 300) ||
        candidates.find(e => e.status < 300) || candidates[0]
    }
    if (!found) throw new Error(`no recorded answer for ${method} ${url}`)
    call.entry = found.name
    if (found.auth) {
      const sent = (header.Authorization || '').replace(/^Bearer /, '')
      if (sent !== TOKENS[found.auth]) return { statusCode: 401, data: entry('unauthorized').response }
    }
    return { statusCode: found.status, data: JSON.parse(JSON.stringify(found.response)) }
  }

  last(method, pathEnd) {
    const hits = this.calls.filter(c => c.method === method && c.path.endsWith(pathEnd))
    return hits[hits.length - 1]
  }
}

module.exports = { FakeServer, entry, TOKENS, ENTRIES }
