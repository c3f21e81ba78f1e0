import"./modulepreload-polyfill-B5Qt9EMX.js";document.getElementById("app").textContent="Loading the room…";
