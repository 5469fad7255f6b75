// The proctor console: for now it shows whether the room's server answers.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("status");

  fetch("/api/v1/time")
    .then((r) => r.json())
    .then(() => { status.textContent = "已连接考场服务器。请登录后使用控制台。"; })
    .catch(() => { status.textContent = "无法连接考场服务器，请检查 examroom serve 是否在运行。"; });
});
