// The calendar form, enhanced: choosing a country offers its subdivisions at once. Without
// script the "Show its subdivisions" button re-renders the form, and saving checks the pair.
(function () {
  "use strict";
  var country = document.getElementById("country");
  var subdiv = document.getElementById("subdiv");
  if (!country || !subdiv || !subdiv.dataset.subdivisions) { return; }
  var known = JSON.parse(subdiv.dataset.subdivisions);
  var whole = subdiv.options.length ? subdiv.options[0].textContent : "";
  var refresh = document.querySelector(".refresh-subdivisions");
  if (refresh) { refresh.hidden = true; }

  country.addEventListener("change", function () {
    var chosen = subdiv.value;
    subdiv.replaceChildren();
    var pairs = [["", whole]].concat(known[country.value] || []);
    pairs.forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      option.selected = pair[0] === chosen;
      subdiv.appendChild(option);
    });
  });
})();
