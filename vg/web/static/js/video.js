// Upload the chosen intro video as one streamed request body (the server encrypts
// it in chunks as it arrives), with the form's CSRF token in a header, and report
// progress in place. Without this script the form posts the same video as
// multipart, which the server also streams into the pod.
const form = document.querySelector("[data-video-form]");
if (form) {
  const input = form.querySelector("input[type=file]");
  const status = form.querySelector("[data-video-status]");
  const token = document.querySelector("meta[name=csrf-token]").content;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    status.textContent = form.dataset.busy;
    const response = await fetch(form.action, {
      method: "PUT", body: file, credentials: "same-origin",
      headers: { "Content-Type": file.type, "X-CSRF-Token": token },
    });
    status.textContent = response.ok ? form.dataset.done : form.dataset.failed;
    if (response.ok) window.location.reload();
  });
}
