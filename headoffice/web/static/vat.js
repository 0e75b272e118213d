// The VAT page's period shortcut fills the period field (no inline handler: CSP).
document.getElementById('vat-choice').addEventListener('change', e => {
  document.getElementById('vat-period').value = e.target.value;
});
