// The incident form, enhanced: only the chosen contract's priorities in the select and in the
// guarantees table, and the chosen priority's guarantees said in a sentence. Without script every
// option and every contract's table stay visible and the server checks the pair.
(function () {
  "use strict";
  var contract = document.getElementById("contract");
  var priority = document.getElementById("priority");
  if (!contract || !priority) { return; }
  var guide = document.getElementById("priority-guide");
  var choice = document.getElementById("priority-choice");
  var tables = guide ? guide.querySelectorAll("[data-contract]") : [];
  var single = tables.length === 1;

  function syncOptions() {
    priority.querySelectorAll("optgroup").forEach(function (group) {
      var matches = group.label === contract.value || group.label === "";
      group.hidden = !matches;
      group.disabled = !matches;
    });
    var selected = priority.options[priority.selectedIndex];
    if (selected && selected.parentElement.disabled) { priority.value = ""; }
  }

  function syncGuide() {
    tables.forEach(function (table) {
      // Before a contract is chosen a lone contract's table still guides; several would only
      // confuse, so they wait for the choice.
      table.hidden = !(table.dataset.contract === contract.value || (single && !contract.value));
    });
    var summary = "";
    guide.querySelectorAll("tr[data-priority]").forEach(function (row) {
      var chosen = row.dataset.priority === priority.value;
      row.classList.toggle("chosen", chosen);
      var mark = row.querySelector(".chosen-mark");
      if (mark) { mark.textContent = chosen ? " — " + guide.dataset.chosenLabel : ""; }
      if (chosen) { summary = row.dataset.summary; }
    });
    choice.textContent = summary;
    choice.hidden = summary === "";
  }

  function sync() {
    syncOptions();
    if (guide && choice) { syncGuide(); }
  }

  contract.addEventListener("change", sync);
  priority.addEventListener("change", sync);
  sync();
})();
