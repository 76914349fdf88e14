// Asks the JSON endpoint every second and shows what it says.
const out = document.getElementById("time");
async function tick() {
  const response = await fetch("/api/time");
  const data = await response.json();
  out.textContent = JSON.stringify(data, null, 2);
}
tick();
setInterval(tick, 1000);

// Echoes what you type over the server's WebSocket at /echo.
const echo = document.getElementById("echo");
const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/echo`);
socket.onmessage = (event) => (echo.textContent += `echo: ${event.data}\n`);
document.getElementById("say").onsubmit = (event) => {
  event.preventDefault();
  socket.send(document.getElementById("text").value);
};
