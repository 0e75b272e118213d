// The live page: the hourly chart and a refresh each second from /api/live (no inline script: CSP).
const page = JSON.parse(document.getElementById('dashboard-data').textContent);
const fmt = new Intl.NumberFormat('nl-NL', {style: 'currency', currency: 'EUR'});
const axis = new Intl.NumberFormat('nl-NL', {style: 'currency', currency: 'EUR', maximumFractionDigits: 0});
const money = c => fmt.format(c / 100);
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const chart = new Chart(document.getElementById('hourly'), {type: 'bar',
  data: {labels: [...Array(24).keys()].map(h => String(h).padStart(2, '0')),
         datasets: [{label: page.label, data: page.hourly.map(c => c / 100), backgroundColor: '#457b9d'}]},
  options: {animation: false, locale: 'nl-NL', plugins: {legend: {display: false},
            tooltip: {callbacks: {label: c => fmt.format(c.parsed.y)}}},
            scales: {y: {ticks: {callback: v => axis.format(v)}}}}});
const params = new URLSearchParams(location.search);
async function refresh() {
  const r = await fetch('/api/live' + (params.get('day') ? '?day=' + params.get('day') : ''));
  if (!r.ok) return;
  const d = await r.json();
  document.getElementById('turnover').textContent = money(d.totals.turnover);
  document.getElementById('tickets').textContent = d.totals.tickets;
  document.getElementById('basket').textContent = money(d.totals.basket);
  document.getElementById('reversals').textContent = d.totals.refunds + ' / ' + d.totals.voids + ' / ' + d.totals.voided_open;
  document.querySelector('#terminals tbody').innerHTML = d.terminals.map(t =>
    `<tr><td>${esc(t.store)}</td><td>${esc(t.terminal)}</td><td class="n">${t.tickets}</td><td class="n">${money(t.turnover)}</td><td class="n">${money(t.basket)}</td></tr>`).join('');
  document.querySelector('#top tbody').innerHTML = d.top.map(p =>
    `<tr><td>${esc(p.name)}</td><td class="n">${p.quantity}</td><td class="n">${money(p.gross)}</td></tr>`).join('');
  document.getElementById('alerts').innerHTML = d.alerts.map(a =>
    `<div class="alert">${esc(a.when)} ${esc(a.text)}</div>`).join('');
  chart.data.datasets[0].data = d.hourly.map(c => c / 100);
  chart.update();
}
setInterval(refresh, 1000);
