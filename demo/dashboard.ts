import { html } from 'hono/html'
import { layout } from './pages.js'

/** What `/admin/metrics.json` answers; the dashboard page renders its first state server-side. */
export interface DashboardData {
  now: number
  version: string
  /** Aggregates of the last 10 whole seconds. */
  summary: { qps: number; p50: number | null; p99: number | null; storeErrors: number }
  storeErrorsLastMinute: number
  activeSessions: number | null
  store: { ok: boolean; latencyMs?: number; details?: Record<string, unknown> }
  /** Per-second columns, oldest first: `t0` is the first second (epoch ms), one value per second. */
  series: {
    t0: number
    requests: number[]
    p50: (number | null)[]
    p99: (number | null)[]
    storeErrors: number[]
    activeSessions: (number | null)[]
  }
  totals: Record<string, number>
}

const fmt = (v: number | null | undefined, unit = '') =>
  v === null || v === undefined ? '–' : `${v}${unit}`

const CHARTS = [
  ['qps', 'Requests per second'],
  ['latency', 'Latency in ms: p50 (solid blue), p99 (dashed orange)'],
  ['storeErrors', 'Store errors per second'],
  ['activeSessions', 'Active sessions'],
] as const

/** The admin dashboard: live numbers (aria-live), four SVG charts drawn by /app.js. */
export function dashboardPage(user: string, data: DashboardData) {
  const { summary, store } = data
  const stat = (id: string, label: string, value: string) =>
    html`<div class="stat">
      <dt>${label}</dt>
      <dd id="${id}">${value}</dd>
    </div>`
  return layout(
    'Dashboard',
    html`<h1>Dashboard</h1>
      <p>Signed in as ${user}. Version ${data.version}.</p>
      <p class="controls">
        <button id="dash-toggle" type="button" aria-pressed="false">Pause live updates</button>
        <span id="dash-state" role="status">Updates every 2 seconds.</span>
      </p>
      <section aria-labelledby="now-heading">
        <h2 id="now-heading">Last 10 seconds</h2>
        <dl class="stats" id="dash-stats" aria-live="polite" data-endpoint="/admin/metrics.json">
          ${stat('m-qps', 'Requests per second', fmt(summary.qps))}
          ${stat('m-p50', 'Latency p50', fmt(summary.p50, ' ms'))}
          ${stat('m-p99', 'Latency p99', fmt(summary.p99, ' ms'))}
          ${stat('m-store-errors', 'Store errors (last minute)', fmt(data.storeErrorsLastMinute))}
          ${stat('m-active', 'Active sessions', fmt(data.activeSessions))}
          ${stat(
            'm-store',
            'Store',
            store.ok ? `up, ${fmt(store.latencyMs, ' ms')}` : 'unavailable',
          )}
        </dl>
        <p class="note">
          Active sessions: exact for the memory store; for Redis, the keys in the database (sessions
          plus per-user indexes and values), an approximation.
        </p>
      </section>
      <section aria-labelledby="charts-heading">
        <h2 id="charts-heading">Last 5 minutes</h2>
        <div class="charts">
          ${CHARTS.map(
            ([id, title]) =>
              html`<figure class="chart">
                <figcaption id="cap-${id}">${title}</figcaption>
                <svg
                  id="chart-${id}"
                  role="img"
                  aria-labelledby="cap-${id}"
                  viewBox="0 0 300 100"
                  preserveAspectRatio="none"
                ></svg>
                <p class="range" id="range-${id}"></p>
              </figure>`,
          )}
        </div>
      </section>
      <section aria-labelledby="totals-heading">
        <h2 id="totals-heading">Totals since start</h2>
        <table>
          <caption class="visually-hidden">
            Counters since the process started
          </caption>
          <thead>
            <tr>
              <th scope="col">Counter</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody id="totals">
            ${Object.entries(data.totals)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(
                ([name, value]) =>
                  html`<tr>
                    <th scope="row"><code>${name}</code></th>
                    <td>${value}</td>
                  </tr>`,
              )}
          </tbody>
        </table>
      </section>
      <p><a href="/admin">Administration</a> · <a href="/">Home</a></p>
      <script src="/app.js" defer></script>`,
    true,
  )
}

/**
 * The dashboard's script, served at /app.js (the CSP forbids inline script): polls the JSON
 * endpoint every 2 seconds, updates the numbers (an aria-live region), draws SVG polylines, and
 * can be paused. No framework, no CDN. Written compact by hand: it is a string in the Worker
 * bundle, which the minifier does not shrink.
 */
export const DASHBOARD_SCRIPT = `'use strict';(()=>{
const $=(i)=>document.getElementById(i),st=$('dash-stats');if(!st)return
const url=st.dataset.endpoint,btn=$('dash-toggle'),msg=$('dash-state'),OK='Updates every 2 seconds.'
let paused=false,timer
const set=(i,v)=>{const e=$(i);if(e&&e.textContent!==v)e.textContent=v}
const f=(v,u='')=>v==null?'\u2013':v+u
const el=(n,a,ns)=>{const e=ns?document.createElementNS('http://www.w3.org/2000/svg',n):document.createElement(n);for(const k in a)e.setAttribute(k,a[k]);return e}
function draw(id,lines,unit){const svg=$('chart-'+id);if(!svg)return
const vals=lines.flatMap((l)=>l.v).filter((v)=>v!=null),max=Math.max(0,...vals),top=max>0?max*1.1:1,kids=[]
for(let g=25;g<100;g+=25)kids.push(el('line',{x1:0,x2:300,y1:g,y2:g,class:'grid'},1))
for(const l of lines){const n=l.v.length,pts=[]
l.v.forEach((v,i)=>{if(v!=null)pts.push((n>1?i/(n-1)*300:0).toFixed(1)+','+(100-v/top*100).toFixed(1))})
kids.push(el('polyline',{points:pts.join(' '),class:'series '+l.c,'vector-effect':'non-scaling-stroke'},1))}
svg.replaceChildren(...kids);set('range-'+id,'max '+Math.round(max*100)/100+unit)}
function render(d){const s=d.series,m=d.summary
set('m-qps',f(m.qps));set('m-p50',f(m.p50,' ms'));set('m-p99',f(m.p99,' ms'))
set('m-store-errors',f(d.storeErrorsLastMinute));set('m-active',f(d.activeSessions))
set('m-store',d.store.ok?'up, '+f(d.store.latencyMs,' ms'):'unavailable')
draw('qps',[{v:s.requests,c:'s1'}],' req/s');draw('latency',[{v:s.p50,c:'s1'},{v:s.p99,c:'s2'}],' ms')
draw('storeErrors',[{v:s.storeErrors,c:'s3'}],'');draw('activeSessions',[{v:s.activeSessions,c:'s1'}],'')
const tb=$('totals');if(tb)tb.replaceChildren(...Object.keys(d.totals).sort().map((k)=>{
const tr=el('tr'),th=el('th',{scope:'row'}),c=el('code'),td=el('td')
c.textContent=k;td.textContent=String(d.totals[k]);th.append(c);tr.append(th,td);return tr}))}
function poll(){fetch(url,{headers:{Accept:'application/json'}}).then((r)=>{if(!r.ok)throw new Error('HTTP '+r.status);return r.json()})
.then((d)=>{render(d);if(msg.textContent!==OK)msg.textContent=OK})
.catch((e)=>{msg.textContent='Update failed ('+e.message+'); retrying.'})
.finally(()=>{if(!paused)timer=setTimeout(poll,2000)})}
btn.addEventListener('click',()=>{paused=!paused;btn.setAttribute('aria-pressed',String(paused))
btn.textContent=(paused?'Resume':'Pause')+' live updates'
if(paused){clearTimeout(timer);msg.textContent='Live updates paused.'}else poll()})
poll()})()
`
