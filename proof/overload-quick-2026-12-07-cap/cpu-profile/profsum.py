import json, sys, glob, collections
f = sorted(glob.glob(sys.argv[1] + '/*.cpuprofile'))[-1]
p = json.load(open(f))
nodes = {n['id']: n for n in p['nodes']}
parent = {}
for n in p['nodes']:
    for c in n.get('children', []): parent[c] = n['id']
dt = collections.Counter()
for s, d in zip(p['samples'], p['timeDeltas']): dt[s] += d
total = sum(dt.values())
def name(n):
    cf = n['callFrame']; return cf['functionName'] or '(anon)', cf['url'].split('/')[-1]
incl = collections.Counter(); self_ = collections.Counter()
for nid, t in dt.items():
    seen = set(); x = nid
    fn, url = name(nodes[nid]); self_[(fn, url)] += t
    while x is not None:
        k = name(nodes[x])
        if k not in seen: incl[k] += t; seen.add(k)
        x = parent.get(x)
print(f'total {total/1e6:.2f} s sampled')
idle = sum(t for k, t in self_.items() if k[0] in ('(idle)',))
print(f'idle {idle/total*100:.1f}%  gc {sum(t for k,t in self_.items() if k[0]=="(garbage collector)")/total*100:.1f}%')
print('top inclusive:')
for k, t in incl.most_common(400): print(f'  {t/total*100:5.1f}% {k[0]} {k[1]}')
print('top self:')
for k, t in self_.most_common(25): print(f'  {t/total*100:5.1f}% {k[0]} {k[1]}')
