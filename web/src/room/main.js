// The room page. (Being built: lobby, avatars, movement, chat.)
document.getElementById("app").textContent = "Loading the room…";
