// The project is what WeChat DevTools opens: every page of app.json exists and is tested, and
// every server call goes through utils/api.js with a name from utils/endpoints.js.
const fs = require('fs')
const path = require('path')
const ENDPOINTS = require('../utils/endpoints')

const ROOT = path.join(__dirname, '..')
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))

function files(dir, ext) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'test' ? [] : files(full, ext)
    return full.endsWith(ext) ? [full] : []
  })
}

const tests = files(path.join(ROOT, 'test'), '.test.js').concat(
  fs.readdirSync(path.join(ROOT, 'test', 'pages')).map(f => path.join(ROOT, 'test', 'pages', f)))
const testText = tests.map(f => fs.readFileSync(f, 'utf8')).join('\n')
const sources = files(ROOT, '.js').filter(f => !f.includes(`${path.sep}test${path.sep}`) && !f.endsWith('.config.js'))

test.each(app.pages)('%s has its four files and a test that opens it', page => {
  ['.js', '.json', '.wxml', '.wxss'].forEach(ext => expect(fs.existsSync(path.join(ROOT, page + ext))).toBe(true))
  expect(testText).toContain(`'${page}'`)
})

test('only utils/api.js talks to the network', () => {
  const offenders = sources.filter(f => !f.endsWith(path.join('utils', 'api.js')))
    .filter(f => /wx\.(request|uploadFile|downloadFile|connectSocket)\s*\(/.test(fs.readFileSync(f, 'utf8')))
  expect(offenders).toEqual([])
})

test('every api.call names a declared endpoint, and every endpoint is used', () => {
  const used = new Set()
  const called = new Set()
  sources.forEach(f => {
    const text = fs.readFileSync(f, 'utf8')
    for (const m of text.matchAll(/api\.call\('(\w+)'/g)) called.add(m[1])
    // Names picked from a map (CALLS[action]) or a ternary are string literals too.
    for (const m of text.matchAll(/'(\w+)'/g)) used.add(m[1])
    if (/ENDPOINTS\.upload/.test(text)) used.add('upload')
  })
  expect([...called].filter(name => !ENDPOINTS[name])).toEqual([])
  expect(Object.keys(ENDPOINTS).filter(name => !used.has(name))).toEqual([])
})

test('the config module is the only place that names the server', () => {
  const named = sources.filter(f => /https?:\/\//.test(fs.readFileSync(f, 'utf8')))
  expect(named.map(f => path.relative(ROOT, f))).toEqual(['config.js'])
})

test('the project config carries a placeholder AppID to replace and excludes the tests from upload', () => {
  const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'))
  expect(project.appid).toBe('touristappid')
  expect(project.packOptions.ignore.map(i => i.value)).toEqual(expect.arrayContaining(['test', 'node_modules']))
})
