"""Weights machinery, below the models: checkpoint readers (checkpoint.py: .pth without torch,
safetensors, .h5; torch_pickle.py), conversion rows and plans with all-or-nothing assignment
(conversion.py; torch_layout.py and keras_layout.py for the torch and keras.applications
layouts), weight cards (cards.py), loading by layer name (loading.py) and the cache of
converted weights (cache.py). Each family module registers its own rows and cards; nothing
here names a family.
"""
