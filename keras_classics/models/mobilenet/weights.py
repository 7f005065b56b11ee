"""MobileNet v1, v2 and v3: the conversion rows and weight cards (torchvision, timm,
keras.applications), read by keras_classics/weights/."""
