import json, sys, re, os
# Where the offered checkouts of each ballast 4x step went (the console's per-step refusal counts).
P = dict(dc=r'ingress/shed critical (\d+)', dq=r'ingress/queue-timeout (\d+)', bf=r'bulkhead-full (\d+)', bq=r'bulkhead/queue-timeout (\d+)', rs=r'ingress/shed sheddable (\d+)')
for d in sys.argv[1:]:
    con = open(d + '.console.txt').read().splitlines()
    runs = json.load(open(os.path.join(d,'figures.json')))['overload']['runs']
    steps = [l for l in con if 'ballast 4x:' in l]
    for i, l in enumerate(steps):
        r = runs[i]
        offered = round(r['capacityRps']*4*2/3)
        c = {k: int((re.search(p, l) or [0,0])[1]) for k, p in P.items()}
        m = re.search(r'critical served (\d+)%.*?\(checkouts (\d+)/s, reads (\d+)/s', l)
        served = round(int(m.group(1))/100*offered); good = int(m.group(2))*2
        st = json.loads(re.search(r'statuses (\{[^}]*\})', l).group(1))
        tag = ('P' if r['pinned'] else 'U') + str(i+1)
        print(f"{os.path.basename(d)} {tag}: checkouts offered {offered}, 201 {served} (late {max(0,served-good)}), door-refused {c['dc']}, door-queue-timeout {c['dq']}, bulkhead-full {c['bf']}, bulkhead-queue-timeout {c['bq']}; reads shed at door {c['rs']}; generator errors {st.get('error',0)}; 503/s {st.get('503',0)/2:.0f}; p99 {r['criticalP99']:.0f} ms")
