"""Copy to ``config.py`` on the board and fill in.  Never commit real credentials."""

CONFIG = {
    "wifi_ssid": "my-wifi",
    "wifi_password": "change-me",
    "broker_host": "192.168.1.10",
    "broker_port": 1883,
    "username": None,
    "password": None,
    "client_id": "tankeco-node-1",
    "site": "home",
    "tank": "main",
    "node": "node1",
    "temp_sensor": "temp1",
    "ph_sensor": "ph1",
    "ec_sensor": "ec1",
    "ds18b20_pin": 4,
    "ph_pin": 34,
    # two-point calibration: (millivolts in buffer A, pH A, millivolts in buffer B, pH B)
    "ph_calibration": (1500.0, 7.0, 1677.0, 4.0),
    "tds_pin": 35,
    "tds_us_cm_per_volt": 1000.0,
    "interval_s": 60,
    "buffer_max": 500,
    "flush_per_loop": 20,
}
