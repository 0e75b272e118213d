// The report's range form: typing a date makes the range custom; a preset disables the dates.
for (const id of ['from', 'to']) {
  document.getElementById(id).addEventListener('change', () => {
    document.getElementById('preset').value = 'custom';
  });
}
document.getElementById('preset').addEventListener('change', e => {
  if (e.target.value !== 'custom') {
    document.getElementById('from').disabled = true;
    document.getElementById('to').disabled = true;
  }
});
