// Swipe a card (touch or mouse drag) right to like and left to pass, or press the
// arrow keys. Each gesture presses the card's own button, so the same form POST
// is sent as without this script.
const THRESHOLD = 80;

const card = document.querySelector("[data-swipe]");
if (card) {
  const like = card.querySelector("[data-swipe-like]");
  const pass = card.querySelector("[data-swipe-pass]");
  let startX = null;

  const decide = (button, direction) => {
    card.classList.add(`vg-swipe--${direction}`);
    button.click();
  };

  card.addEventListener("pointerdown", (event) => {
    if (event.target.closest("button, a, input")) return;
    startX = event.clientX;
  });
  card.addEventListener("pointerup", (event) => {
    if (startX === null) return;
    const moved = event.clientX - startX;
    startX = null;
    if (moved > THRESHOLD) decide(like, "like");
    else if (moved < -THRESHOLD) decide(pass, "pass");
  });
  card.addEventListener("pointercancel", () => { startX = null; });

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select");
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowRight") { event.preventDefault(); decide(like, "like"); }
    if (event.key === "ArrowLeft") { event.preventDefault(); decide(pass, "pass"); }
  });
}
