"""Diagnosis for the scaling table: does self-supervised training keep a good solution?

    .venv/bin/python scripts/ssl_from_supervised.py N OBJECTIVE '{"lr": 3e-4, ...}' STEPS

Scaling-experiment data (RealNVP mixing, seed 0, rho 0.5, 20000 / 5000 pairs). The matched
RealNVP encoder is first regressed on the true z (3000 steps x 256, lr 3e-3: the
"supervised" budget ceiling of the table), then trained for STEPS steps of 256 pairs with
fit_encoder(OBJECTIVE, **options). Prints R²(h -> z) before and after. A drop means the
self-supervised gradient moves the encoder *away* from the inverse at this batch size
and lr (results/scaling/diagnosis.md).
"""
import sys, time, math, torch, numpy as np, json
torch.set_num_threads(1)
from pycheck.experiments._common import _data
from pycheck.encoders import RealNVPEncoder, Standardized
from pycheck.train import fit_encoder, embed, warmup_cosine
from pycheck.metrics import linear_r2
n=int(sys.argv[1]); obj=sys.argv[2]; kw=json.loads(sys.argv[3]); steps=int(sys.argv[4])
g,z,zn,zt,ztn=_data("realnvp",n,0,0.5,20000,5000)
x,xn,xt=g.forward(z),g.forward(zn),g.forward(zt)
enc=RealNVPEncoder(n,seed=10000)
m=Standardized.fit(enc,torch.from_numpy(x),"diag")
X=torch.from_numpy(x).float(); Z=torch.from_numpy(z).float()
opt=torch.optim.Adam(m.parameters(),lr=3e-3); sch=warmup_cosine(opt,3000); gen=torch.Generator().manual_seed(0)
for s in range(3000):
    idx=torch.randint(20000,(256,),generator=gen); loss=(m(X[idx])-Z[idx]).square().sum(1).mean()
    opt.zero_grad(); loss.backward(); opt.step(); sch.step()
print("supervised R2 %.4f"%linear_r2(embed(m.eval(),xt),zt), flush=True)
# continue with SSL on the inner encoder (fit_encoder re-standardizes with diag -> same transform)
enc2 = m.encoder
m2=fit_encoder(x,xn,obj,encoder=enc2,steps=steps,progress=False,**{"batch_size":256,**kw})
print(n,obj,kw,"after SSL R2 %.4f"%linear_r2(embed(m2,xt),zt), m2.history[-1][1], flush=True)
