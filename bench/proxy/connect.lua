-- sysbench workload for bench/proxy/run.sh (WORKLOADS=connect): every event
-- opens a connection, logs in, runs SELECT 1 and disconnects, so the tps
-- sysbench reports is connections per second, and p95 is the latency of a
-- whole connect + login (+ TLS handshake with --mysql-ssl=on) + query + quit.
--
-- Usage: sysbench bench/proxy/connect.lua --db-driver=mysql --mysql-host=...
--        --mysql-port=... --mysql-user=... --mysql-password=... [--mysql-ssl=on]
--        --threads=N --time=S run

-- run.sh passes the same options to every workload; accept them here.
sysbench.cmdline.options = {
  tables = {"Unused (accepted for run.sh's common options)", 1},
  table_size = {"Unused (accepted for run.sh's common options)", 1},
}

function thread_init()
  drv = sysbench.sql.driver()
end

function event()
  local con = drv:connect()
  con:query("SELECT 1")
  con:disconnect()
end
