// Shows only the priorities of the chosen contract; without script every option stays visible
// and the server checks the pair.
(function () {
  "use strict";
  var contract = document.getElementById("contract");
  var priority = document.getElementById("priority");
  if (!contract || !priority) { return; }
  function sync() {
    var groups = priority.querySelectorAll("optgroup");
    groups.forEach(function (group) {
      var matches = group.label === contract.value || group.label === "";
      group.hidden = !matches;
      group.disabled = !matches;
    });
    var selected = priority.options[priority.selectedIndex];
    if (selected && selected.parentElement.disabled) { priority.value = ""; }
  }
  contract.addEventListener("change", sync);
  sync();
})();
