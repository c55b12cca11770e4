// The draft email page: Copy buttons, and an "Open in email" link that follows the edits.
// Without this script the buttons stay hidden, the text boxes remain selectable and the link
// opens the original text, so nothing depends on it. Its words come from the page (data-*
// attributes the server wrote in the reader's language), never from this file.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    function report(copied) {
      if (!copied) { field.focus(); field.select(); }
      if (status) { status.textContent = status.getAttribute(copied ? "data-copied" : "data-refused"); }
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

// Keeps the mailto: link's subject and body in step with the text boxes, so "Open in email"
// starts the message as edited here (line breaks as CRLF, as mail wants them).
(function () {
  var link = document.querySelector("a[data-mailto]");
  var subject = document.getElementById("subject");
  var body = document.getElementById("draft-body");
  if (!link || !subject || !body) { return; }
  var to = link.getAttribute("data-mailto");
  function update() {
    var text = body.value.replace(/\r\n/g, "\n").replace(/\n/g, "\r\n");
    link.href = "mailto:" + to + "?subject=" + encodeURIComponent(subject.value) + "&body=" + encodeURIComponent(text);
  }
  subject.addEventListener("input", update);
  body.addEventListener("input", update);
  var note = document.getElementById("mailto-note");
  if (note) { note.textContent = note.getAttribute("data-live"); }
})();
