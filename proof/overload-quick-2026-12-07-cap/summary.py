import json, glob, sys, statistics, os
root = sys.argv[1]
keys = ['capacityRps','checkoutsAloneRps','criticalOfAlone','costWeighted.ballast','costWeighted.none','costWeighted.toobusy','criticalP99','unloadedCriticalP99','criticalServed','sheddableServed','sheddableServedAtMost1x','tenantFairness']
def get(r,k):
    if k.startswith('costWeighted.'): return r['costWeighted'].get(k.split('.')[1])
    return r.get(k)
for arm in ['before','after']:
    runs = []
    for d in sorted(glob.glob(os.path.join(root, arm+'-*'))):
        f = os.path.join(d,'figures.json')
        if not os.path.exists(f): continue
        runs += json.load(open(f))['overload']['runs']
    for pinned in [True, False]:
        rs = [r for r in runs if r['pinned']==pinned]
        if not rs: continue
        print(f"{arm}: {len(rs)} {'pinned' if pinned else 'unpinned'} runs")
        for k in keys:
            v = [get(r,k) for r in rs]
            v = [x for x in v if x is not None]
            if not v: continue
            print(f"  {k:28s} median {statistics.median(v):9.3f}  runs [{', '.join(f'{x:.3f}' if x<100 else f'{x:.1f}' for x in v)}]")
