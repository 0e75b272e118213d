// The cash page's charts: the variance of each day and of each cashier (no inline script: CSP).
const cash = JSON.parse(document.getElementById('cash-data').textContent);
const euro = new Intl.NumberFormat('nl-NL', {style: 'currency', currency: 'EUR'});
const colour = values => values.map(v => (v < 0 ? '#c0392b' : '#457b9d'));
function bars(id, labels, cents) {
  const values = cents.map(c => c / 100);
  new Chart(document.getElementById(id), {type: 'bar',
    data: {labels: labels, datasets: [{label: cash.label, data: values, backgroundColor: colour(values)}]},
    options: {animation: false, locale: 'nl-NL', plugins: {legend: {display: false},
              tooltip: {callbacks: {label: c => cash.label + ': ' + euro.format(c.parsed.y)}}},
              scales: {y: {ticks: {callback: v => euro.format(v)}}}}});
}
bars('day-chart', cash.day_labels, cash.day_values);
bars('cashier-chart', cash.cashier_labels, cash.cashier_values);
