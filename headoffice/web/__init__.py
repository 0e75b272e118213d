"""`kassa office web`: the owner's and bookkeeper's dashboard (Starlette, Chart.js vendored)."""
