"""PIN payment terminals speaking the Adyen Terminal API (nexo Sale-to-POI JSON): `adyen`
(local /nexo endpoint or Adyen's cloud endpoint) and `sim`, a simulated terminal served over
HTTPS on loopback with the same messages and message protection."""
