// The console's only script: embedded in the crate, served from its own
// path. Everything works without it; it only adds a confirmation before a
// destructive form is sent, and local times beside the UTC ones.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  for (const time of document.querySelectorAll("time[data-ms]")) {
    const ms = Number(time.getAttribute("data-ms"));
    if (Number.isFinite(ms) && !time.title) {
      time.title = new Date(ms).toLocaleString();
    }
  }
});
