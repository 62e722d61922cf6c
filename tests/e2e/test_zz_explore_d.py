import time
from .test_data_safety import set_up_practice_with_a_client
from .test_storage_pressure import PROBE

SIZED = PROBE.replace('async () =>', 'async (n) =>').replace('"y".repeat(50000)', '"y".repeat(n)')

def test_explore(page, base_url):
    set_up_practice_with_a_client(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": base_url.rstrip("/"), "quotaSize": 1})
    t = time.time()
    for i in range(45):
        r = page.evaluate(SIZED, 2000)
        print(round(time.time() - t), r)
        time.sleep(1)
