// Progressive enhancement only: every form works without this file.
(function () {
  // The error summary takes focus so screen readers announce it first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  // Show the chosen photo before the form is sent.
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    input.addEventListener("change", function () {
      var old = input.parentNode.querySelector("img.js-preview");
      if (old) { old.remove(); }
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type)) { return; }
      var img = document.createElement("img");
      img.className = "photo-preview js-preview";
      img.alt = "";
      img.src = URL.createObjectURL(file);
      input.parentNode.appendChild(img);
    });
  });
})();
// Print buttons (the receipt): no inline handlers, the Content-Security-Policy forbids them.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
