// Copy buttons of the draft email page. Without this script the buttons stay hidden and the
// text boxes remain selectable, so nothing depends on it.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    function report(copied) {
      if (!copied) { field.focus(); field.select(); }
      if (status) { status.textContent = copied ? "Copied." : "Copying was refused: the text is selected, copy it with your keyboard."; }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { report(true); }, function () { report(false); });
    } else {
      field.focus();
      field.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      report(copied);
    }
  });
});
