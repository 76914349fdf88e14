// Asks the JSON endpoint every second and shows what it says.
const out = document.getElementById("time");
async function tick() {
  const response = await fetch("/api/time");
  const data = await response.json();
  out.textContent = JSON.stringify(data, null, 2);
}
tick();
setInterval(tick, 1000);
