// Redraw the map when the place or the circle changes, and let a click on a
// municipality choose it as the place (the list does the same by keyboard).
const frame = document.querySelector("[data-map]");
const place = document.querySelector("[data-map-place]");
const circle = document.querySelector("[data-map-circle]");

async function redraw() {
  const query = new URLSearchParams({ plaats: place.value, kring: circle.value });
  const response = await fetch(`/organisatie/kaart?${query}`, { credentials: "same-origin" });
  if (!response.ok) return;
  const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
  frame.replaceChildren(document.importNode(svg.documentElement, true));
}

if (frame && place && circle) {
  place.addEventListener("change", redraw);
  circle.addEventListener("change", redraw);
  frame.addEventListener("click", (event) => {
    const code = event.target.closest("path")?.dataset.code;
    if (code && [...place.options].some((option) => option.value === code)) {
      place.value = code;
      redraw();
    }
  });
}
