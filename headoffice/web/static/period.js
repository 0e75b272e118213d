// The period chart: this period beside the previous one (no inline script: CSP).
const page = JSON.parse(document.getElementById('period-data').textContent);
const fmt = new Intl.NumberFormat('nl-NL', {style: 'currency', currency: 'EUR'});
const axis = new Intl.NumberFormat('nl-NL', {style: 'currency', currency: 'EUR', maximumFractionDigits: 0});
new Chart(document.getElementById('series'), {type: 'bar', data: {labels: page.labels,
  datasets: [{label: page.label, data: page.values.map(c => c / 100), backgroundColor: '#457b9d'},
             {label: page.previous_label, data: page.previous_values.map(c => c / 100), backgroundColor: '#c9d6e3'}]},
  options: {animation: false, locale: 'nl-NL',
            plugins: {tooltip: {callbacks: {label: c => c.dataset.label + ': ' + fmt.format(c.parsed.y)}}},
            scales: {y: {ticks: {callback: v => axis.format(v)}}}}});
