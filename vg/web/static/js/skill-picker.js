// The ESCO skill picker as a combobox (WAI-ARIA APG): suggestions while typing,
// arrow keys and Enter to choose, Escape to close. Without this script the same
// form has a search button that adds results as checkboxes.
const DELAY_MS = 200;

for (const picker of document.querySelectorAll("[data-picker]")) {
  const input = picker.querySelector("[role=combobox]");
  const list = picker.querySelector("[role=listbox]");
  const chosen = picker.querySelector(".vg-chosen");
  const name = picker.dataset.name;
  let options = [];
  let active = -1;
  let timer = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    active = index;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  };

  const choose = (option) => {
    const uri = option.dataset.uri;
    const known = [...chosen.querySelectorAll("input")].some((box) => box.value === uri);
    if (!known) {
      const id = `${input.id}-k${chosen.children.length + 1}`;
      const item = document.createElement("li");
      const box = document.createElement("input");
      Object.assign(box, { type: "checkbox", name, value: uri, id, checked: true });
      box.className = "utrecht-checkbox utrecht-checkbox--html-input";
      const label = document.createElement("label");
      label.className = "utrecht-form-label utrecht-form-label--checkbox";
      label.htmlFor = id;
      label.textContent = option.textContent;
      item.append(box, " ", label);
      chosen.append(item);
    }
    input.value = "";
    close();
    input.focus();
  };

  const show = (found) => {
    list.replaceChildren();
    options = found.map((skill, i) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.uri = skill.uri;
      option.textContent = skill.label;
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => choose(option));
      list.append(option);
      return option;
    });
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
    active = -1;
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      const response = await fetch(`/vaardigheden?q=${encodeURIComponent(text)}`,
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok && input.value.trim() === text) show(await response.json());
    }, DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight((active + 1) % options.length);
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      highlight((active - 1 + options.length) % options.length);
    } else if (event.key === "Enter") {
      // Enter in the search box never submits the whole form.
      event.preventDefault();
      if (active >= 0) choose(options[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}
